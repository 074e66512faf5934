// The therapist moves an appointment to a new time: tokens issued for the old time can no
// longer be refreshed, and new ones carry the new window.
import { appointmentView, moveAppointment } from '#lib/appointments';
import type { Deps } from '#lib/deps';
import { createApiHandler } from '#lib/http/api-handler';
import { resourceRequester } from '#lib/policy';
import { ROUTES } from '#lib/routes';

export function createMoveAppointmentHandler(deps: Deps) {
  const { settings } = deps;
  return createApiHandler(ROUTES.moveAppointment, deps, async ({ input, caller, requestId }) => {
    const schedule = { startMs: input.scheduledStartTime, durationMinutes: input.durationMinutes ?? settings.appointmentDefaultDurationMinutes };
    const moved = await moveAppointment(deps, input.appointmentId, schedule, { actor: resourceRequester(caller, input.userId), requestId });
    return { body: appointmentView(moved, 'therapist') };
  });
}
