// Prosody tells us a room is gone: everyone left, or its time ran out.
import type { Deps } from '#lib/deps';
import { createApiHandler } from '#lib/http/api-handler';
import { closeConference } from '#lib/reservations';
import { ROUTES } from '#lib/routes';

export function createReservationDeleteHandler(deps: Deps) {
  return createApiHandler(ROUTES.reservationDelete, deps, async ({ input, requestId }) => ({
    body: { ...(await closeConference(deps, input.id, requestId)) },
  }));
}
