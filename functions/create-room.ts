// The therapist registers an appointment (first call), or gets its room again (same time), or
// moves it (new time), and receives a token each for therapist and client, valid only in the
// appointment's window.
import { registerAppointment } from '#lib/appointments';
import type { Deps } from '#lib/deps';
import { createApiHandler } from '#lib/http/api-handler';
import { authorizeCreateRoom } from '#lib/policy';
import { ROUTES } from '#lib/routes';
import { isoFromSeconds } from '#lib/token';

export function createCreateRoomHandler(deps: Deps) {
  const { settings } = deps;
  return createApiHandler(ROUTES.createRoom, deps, async ({ input, caller, requestId }) => {
    const { therapist, client } = authorizeCreateRoom(caller, input);
    const schedule = { startMs: input.scheduledStartTime, durationMinutes: input.durationMinutes ?? settings.appointmentDefaultDurationMinutes };
    const { appointment, tokens } = await registerAppointment(
      deps,
      { appointmentId: input.appointmentId, tenant: input.tenant ?? settings.defaultTenant, therapist, client, schedule },
      { actor: therapist.id, requestId },
    );
    const [therapistToken, clientToken] = tokens;
    return {
      body: {
        roomName: appointment.room,
        joinUrl: therapistToken!.joinUrl,
        therapistToken: therapistToken!.token,
        clientToken: clientToken!.token,
        notBefore: isoFromSeconds(therapistToken!.notBefore),
        expiresAt: isoFromSeconds(therapistToken!.expiresAt),
        callType: input.callType ?? 'video',
      },
      tokens,
    };
  });
}
