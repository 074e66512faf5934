// The web app's function: every route a browser calls (the rows with runsIn: 'callerApi'), in one
// environment that stays warm for all of them.
import { deployedHandler } from '#lib/deps';
import { createFunctionHandler } from '#lib/http/function-handler';
import { FUNCTIONS, ROUTES } from '#lib/routes';
import { createDynamoStore } from '#lib/store';
import { createAppointmentAttendanceHandler } from '../appointment-attendance.ts';
import { createAppointmentAuditHandler } from '../appointment-audit.ts';
import { createCancelAppointmentHandler } from '../cancel-appointment.ts';
import { createCreateJoinLinkHandler } from '../create-join-link.ts';
import { createCreateRoomHandler } from '../create-room.ts';
import { createEndMeetingHandler } from '../end-meeting.ts';
import { createExchangeJoinLinkHandler } from '../exchange-join-link.ts';
import { createGenerateTokenHandler } from '../generate-token.ts';
import { createGetAppointmentHandler } from '../get-appointment.ts';
import { createMoveAppointmentHandler } from '../move-appointment.ts';
import { createRefreshTokenHandler } from '../refresh-token.ts';
import { createValidateTokenHandler } from '../validate-token.ts';

export const createCallerApiHandler = createFunctionHandler(FUNCTIONS.callerApi, {
  [ROUTES.generateToken.name]: createGenerateTokenHandler,
  [ROUTES.createRoom.name]: createCreateRoomHandler,
  [ROUTES.validateToken.name]: createValidateTokenHandler,
  [ROUTES.refreshToken.name]: createRefreshTokenHandler,
  [ROUTES.getAppointment.name]: createGetAppointmentHandler,
  [ROUTES.moveAppointment.name]: createMoveAppointmentHandler,
  [ROUTES.cancelAppointment.name]: createCancelAppointmentHandler,
  [ROUTES.appointmentAudit.name]: createAppointmentAuditHandler,
  [ROUTES.createJoinLink.name]: createCreateJoinLinkHandler,
  [ROUTES.exchangeJoinLink.name]: createExchangeJoinLinkHandler,
  [ROUTES.attendance.name]: createAppointmentAttendanceHandler,
  [ROUTES.endMeeting.name]: createEndMeetingHandler,
});

// Top-level await: the first request's work is done in the init phase (lib/deps.ts, prepareForFirstRequest).
export const handler = await deployedHandler(createCallerApiHandler, { fn: FUNCTIONS.callerApi, openStore: createDynamoStore });
