// The therapist cancels an appointment: no token is issued or refreshed for it afterwards.
import { appointmentView, cancelAppointment } from '#lib/appointments';
import type { Deps } from '#lib/deps';
import { createApiHandler } from '#lib/http/api-handler';
import { resourceRequester } from '#lib/policy';
import { ROUTES } from '#lib/routes';

export function createCancelAppointmentHandler(deps: Deps) {
  return createApiHandler(ROUTES.cancelAppointment, deps, async ({ input, caller, requestId }) => {
    const cancelled = await cancelAppointment(deps, input.appointmentId, { actor: resourceRequester(caller, input.userId), requestId });
    return { body: appointmentView(cancelled, 'therapist') };
  });
}
