// The room of an appointment and a token each for therapist and client, valid only in the
// appointment's window.
import { deployedHandler, type Deps } from '#lib/deps';
import { createApiHandler } from '#lib/http/api-handler';
import { issueTokens } from '#lib/issue';
import { authorizeCreateRoom } from '#lib/policy';
import { appointmentTokenTimes, deriveAppointmentRoom } from '#lib/room';
import { ROUTES } from '#lib/routes';
import { isoFromSeconds } from '#lib/token';

export function createCreateRoomHandler({ settings, logger, keyring, clock }: Deps) {
  return createApiHandler(ROUTES.createRoom, { settings, logger }, async ({ input, caller }) => {
    const { therapist, client } = authorizeCreateRoom(caller, input);
    const times = appointmentTokenTimes(clock.nowSeconds(), input.scheduledStartTime, input.durationMinutes ?? settings.appointmentDefaultDurationMinutes, {
      earlyJoinMinutes: settings.appointmentEarlyJoinMinutes,
      graceMinutes: settings.appointmentGraceMinutes,
      tokenTtlMaxSeconds: settings.tokenTtlMaxSeconds,
    });
    const { roomKey } = await keyring.current();
    const room = deriveAppointmentRoom(roomKey, settings.roomPrefix, input.appointmentId);
    const tokens = await issueTokens(keyring, settings, [
      { room, tenant: input.tenant, user: therapist, moderator: true, times },
      { room, tenant: input.tenant, user: client, moderator: false, times },
    ]);
    const [therapistToken, clientToken] = tokens as [(typeof tokens)[0], (typeof tokens)[0]];
    return {
      body: {
        roomName: room,
        joinUrl: therapistToken.joinUrl,
        therapistToken: therapistToken.token,
        clientToken: clientToken.token,
        notBefore: isoFromSeconds(times.notBefore),
        expiresAt: isoFromSeconds(times.expiresAt),
        callType: input.callType ?? 'video',
      },
      tokens,
    };
  });
}

export const handler = deployedHandler(createCreateRoomHandler);
