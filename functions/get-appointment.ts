// An appointment's status and window, for its therapist and client: ids and times only.
import { appointmentOfMember, appointmentView } from '#lib/appointments';
import type { Deps } from '#lib/deps';
import { createApiHandler } from '#lib/http/api-handler';
import { resourceRequester } from '#lib/policy';
import { ROUTES } from '#lib/routes';

export function createGetAppointmentHandler(deps: Deps) {
  return createApiHandler(ROUTES.getAppointment, deps, async ({ input, caller, requestId }) => {
    const { appointment, role } = await appointmentOfMember(deps, input.appointmentId, { actor: resourceRequester(caller, input.userId), requestId }, 'member');
    return { body: appointmentView(appointment, role) };
  });
}
