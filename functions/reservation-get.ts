// Prosody asks for a room it was told is open already (after a 409 with its id).
import type { Deps } from '#lib/deps';
import { createApiHandler } from '#lib/http/api-handler';
import { conferenceReservation } from '#lib/reservations';
import { ROUTES } from '#lib/routes';

export function createReservationGetHandler(deps: Deps) {
  return createApiHandler(ROUTES.reservationGet, deps, async ({ input, requestId }) => ({
    body: { ...(await conferenceReservation(deps, input.id, requestId)) },
  }));
}
