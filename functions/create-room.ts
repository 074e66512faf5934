// POST /api/jitsi/create-room: the appointment's room and a token each for therapist and client,
// valid only in the appointment window.
import { createApiHandler, ok } from '#lib/http';
import { authorizeCreateRoom, identifyCaller } from '#lib/policy';
import { createRoomRequest } from '#lib/requests';
import { appointmentTokenTimes, buildJoinUrl, deriveAppointmentRoom } from '#lib/room';
import { appSecret, logger, nowSeconds, settings, tenantFor } from '#lib/service';
import { buildJitsiClaims, isoFromSeconds, signJitsiToken } from '#lib/token';

export const handler = createApiHandler({
  route: 'create-room',
  schema: createRoomRequest(),
  settings,
  logger,
  async handle({ input, event }) {
    const { therapist, client } = authorizeCreateRoom(identifyCaller(event, settings), input);
    const times = appointmentTokenTimes(nowSeconds(), input.scheduledStartTime, input.durationMinutes ?? settings.appointmentDefaultDurationMinutes, {
      earlyJoinMinutes: settings.appointmentEarlyJoinMinutes,
      graceMinutes: settings.appointmentGraceMinutes,
      tokenTtlMaxSeconds: settings.tokenTtlMaxSeconds,
    });
    const { signingKey, kid, roomKey } = await appSecret.get();
    const room = deriveAppointmentRoom(roomKey, settings.roomPrefix, input.appointmentId);
    const tenant = tenantFor(input.tenant);
    const therapistToken = signJitsiToken(buildJitsiClaims({ room, tenant, user: therapist, moderator: true, ...times }, settings), signingKey, kid);
    const clientToken = signJitsiToken(buildJitsiClaims({ room, tenant, user: client, moderator: false, ...times }, settings), signingKey, kid);
    return ok({
      roomName: room,
      joinUrl: buildJoinUrl(settings.jitsiDomain, room, tenant),
      therapistToken,
      clientToken,
      notBefore: isoFromSeconds(times.notBefore),
      expiresAt: isoFromSeconds(times.expiresAt),
      callType: input.callType ?? 'video',
    }, { moderatorTokens: 1, participantTokens: 1 });
  },
});
