// Prosody's reservation module asks, before it creates a room, whether the room may exist and
// for how long (form-encoded, with the reservation API key).
import type { Deps } from '#lib/deps';
import { createApiHandler } from '#lib/http/api-handler';
import { reserveConference } from '#lib/reservations';
import { ROUTES } from '#lib/routes';

export function createReservationCreateHandler(deps: Deps) {
  return createApiHandler(ROUTES.reservationCreate, deps, async ({ input, requestId }) =>
    reserveConference(deps, { name: input.name, startMs: input.start_time, mailOwner: input.mail_owner }, requestId),
  );
}
