// Prosody's function: the reservation API (the rows with runsIn: 'reservationsApi'), the only
// function that may read Prosody's key.
import { deployedHandler } from '#lib/deps';
import { createFunctionHandler } from '#lib/http/function-handler';
import { FUNCTIONS, ROUTES } from '#lib/routes';
import { createDynamoStore } from '#lib/store';
import { createReservationCreateHandler } from '../reservation-create.ts';
import { createReservationDeleteHandler } from '../reservation-delete.ts';
import { createReservationGetHandler } from '../reservation-get.ts';

export const createReservationsApiHandler = createFunctionHandler(FUNCTIONS.reservationsApi, {
  [ROUTES.reservationCreate.name]: createReservationCreateHandler,
  [ROUTES.reservationGet.name]: createReservationGetHandler,
  [ROUTES.reservationDelete.name]: createReservationDeleteHandler,
});

export const handler = deployedHandler(createReservationsApiHandler, { openStore: createDynamoStore });
