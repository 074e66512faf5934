// An appointment's audit trail, for its therapist: every change and token, and every refusal,
// newest first, a page at a time (`next` → `cursor`).
import { appointmentOfMember } from '#lib/appointments';
import type { Deps } from '#lib/deps';
import { createApiHandler } from '#lib/http/api-handler';
import { resourceRequester } from '#lib/policy';
import { ROUTES } from '#lib/routes';
import { isoFromSeconds } from '#lib/token';

/** Records a page holds: a few store reads of items of at most a few hundred bytes each. */
export const TRAIL_PAGE_SIZE = 100;

export function createAppointmentAuditHandler(deps: Deps) {
  return createApiHandler(ROUTES.appointmentAudit, deps, async ({ input, caller, requestId }) => {
    const asking = { actor: resourceRequester(caller, input.userId), requestId };
    const { appointment } = await appointmentOfMember(deps, input.appointmentId, asking, 'therapist');
    const page = await deps.store.audit.page(appointment.appointmentId, TRAIL_PAGE_SIZE, input.cursor);
    const body: Record<string, unknown> = {
      appointmentId: appointment.appointmentId,
      records: page.records.map(({ appointmentId: _, at, lastAt, ...record }) => ({
        at: isoFromSeconds(at),
        ...record,
        ...(lastAt === undefined ? {} : { lastAt: isoFromSeconds(lastAt) }),
      })),
    };
    if (page.cursor !== undefined) body.next = page.cursor;
    return { body };
  });
}
