// Prosody's function: the reservation API and the event sync component's events (the rows with
// runsIn: 'reservationsApi'), the only function that may read Prosody's keys. It also runs the
// jobs the stack's rules send it: ending a cancelled appointment's meeting, and telling the
// outcomes of sessions whose window has closed.
import { deployedHandler } from '#lib/deps';
import { createFunctionHandler } from '#lib/http/function-handler';
import { runProsodyJob } from '#lib/jobs';
import { FUNCTIONS, ROUTES } from '#lib/routes';
import { createDynamoStore } from '#lib/store';
import { createReservationCreateHandler } from '../reservation-create.ts';
import { createReservationDeleteHandler } from '../reservation-delete.ts';
import { createReservationGetHandler } from '../reservation-get.ts';
import { createJitsiEventOccupantJoinedHandler } from '../jitsi-event-occupant-joined.ts';
import { createJitsiEventOccupantLeftHandler } from '../jitsi-event-occupant-left.ts';
import { createJitsiEventRoomCreatedHandler } from '../jitsi-event-room-created.ts';
import { createJitsiEventRoomDestroyedHandler } from '../jitsi-event-room-destroyed.ts';

export const createReservationsApiHandler = createFunctionHandler(
  FUNCTIONS.reservationsApi,
  {
    [ROUTES.reservationCreate.name]: createReservationCreateHandler,
    [ROUTES.reservationGet.name]: createReservationGetHandler,
    [ROUTES.reservationDelete.name]: createReservationDeleteHandler,
    [ROUTES.roomCreatedEvent.name]: createJitsiEventRoomCreatedHandler,
    [ROUTES.roomDestroyedEvent.name]: createJitsiEventRoomDestroyedHandler,
    [ROUTES.occupantJoinedEvent.name]: createJitsiEventOccupantJoinedHandler,
    [ROUTES.occupantLeftEvent.name]: createJitsiEventOccupantLeftHandler,
  },
  undefined,
  runProsodyJob,
);

// Top-level await: the first request's work is done in the init phase (lib/deps.ts, prepareForFirstRequest).
export const handler = await deployedHandler(createReservationsApiHandler, { fn: FUNCTIONS.reservationsApi, openStore: createDynamoStore });
