// An appointment's audit trail, for its therapist: who was let in or refused, and every change.
import { appointmentOfMember } from '#lib/appointments';
import type { Deps } from '#lib/deps';
import { createApiHandler } from '#lib/http/api-handler';
import { resourceRequester } from '#lib/policy';
import { ROUTES } from '#lib/routes';
import { isoFromSeconds } from '#lib/token';

export function createAppointmentAuditHandler(deps: Deps) {
  return createApiHandler(ROUTES.appointmentAudit, deps, async ({ input, caller }) => {
    const { appointment } = await appointmentOfMember(deps, input.appointmentId, resourceRequester(caller, input.userId), 'therapist');
    const records = await deps.store.trail(appointment.appointmentId);
    return {
      body: {
        appointmentId: appointment.appointmentId,
        records: records.map(({ appointmentId: _, at, ...record }) => ({ at: isoFromSeconds(at), ...record })),
      },
    };
  });
}
