// Middleware: the only place an error becomes a response. Domain errors (lib/errors.ts) and
// HTTP problems map to problem+json with a stable type, a title, the field at fault and the
// request id; anything else is a bug, logged by class and stack (never its message) as a 500.
import {
  AppointmentStateError,
  ForbiddenError,
  InvalidInputError,
  InvalidRequestError,
  JoinLinkUnavailableError,
  RoomRefusedError,
  NotFoundError,
  TooLargeError,
  UnauthenticatedError,
  UnavailableError,
} from '../errors.ts';
import { describeError, type Logger } from '../log.ts';
import { HttpProblem, problemBody, RETRY_AFTER_SECONDS } from '../problem.ts';
import { PROBLEM_TYPE, requestIdOf, type ApiMiddleware } from './types.ts';

const REQUEST_TITLES = {
  'invalid-request': 'The request body must be a JSON object',
  'unknown-field': 'The request has a field this endpoint does not accept',
  'invalid-json': 'The request body is not acceptable JSON',
} as const;

const UNAVAILABLE = {
  secret: { type: 'secret-unavailable', title: 'The signing secret is unavailable' },
  store: { type: 'store-unavailable', title: 'The appointment store is unavailable' },
  jitsi: { type: 'jitsi-unavailable', title: 'Jitsi did not answer' },
  events: { type: 'events-unavailable', title: 'The platform events could not be published' },
} as const;

const APPOINTMENT_STATES = {
  cancelled: { type: 'appointment-cancelled', title: 'The appointment was cancelled' },
  ended: { type: 'appointment-ended', title: 'The appointment has already ended' },
  conflict: { type: 'appointment-conflict', title: 'The appointment is registered differently' },
  moved: { type: 'appointment-moved', title: 'The appointment was moved to another time' },
} as const;

/** The problem an error means, or undefined for an error that is a bug. */
export function toProblem(error: unknown): HttpProblem | undefined {
  if (error instanceof HttpProblem) return error;
  if (error instanceof InvalidInputError) return new HttpProblem('invalid-field', 'A request field is invalid', { field: error.field, detail: error.detail });
  if (error instanceof InvalidRequestError) return new HttpProblem(error.kind, REQUEST_TITLES[error.kind], { detail: error.detail });
  if (error instanceof TooLargeError) {
    return new HttpProblem(
      'payload-too-large',
      'A request field is too large',
      error.field === undefined ? { detail: error.detail } : { field: error.field, detail: error.detail },
    );
  }
  if (error instanceof UnauthenticatedError)
    return new HttpProblem('unauthenticated', 'The caller is not authenticated', { detail: error.detail, headers: { 'www-authenticate': 'Bearer' } });
  if (error instanceof ForbiddenError)
    return new HttpProblem(
      'forbidden',
      'The caller may not do this',
      error.field === undefined ? { detail: error.detail } : { detail: error.detail, field: error.field },
    );
  if (error instanceof NotFoundError) return new HttpProblem('not-found', 'Not found', { detail: error.detail });
  if (error instanceof RoomRefusedError) return new HttpProblem('room-refused', 'The room cannot open now', { detail: error.detail });
  if (error instanceof JoinLinkUnavailableError) return new HttpProblem('join-link-unavailable', 'The join link cannot be used', { detail: error.detail });
  if (error instanceof AppointmentStateError) {
    const { type, title } = APPOINTMENT_STATES[error.state];
    return new HttpProblem(type, title, error.field === undefined ? { detail: error.detail } : { detail: error.detail, field: error.field });
  }
  if (error instanceof UnavailableError) {
    const { type, title } = UNAVAILABLE[error.dependency];
    return new HttpProblem(type, title, { detail: error.detail, headers: { 'retry-after': String(RETRY_AFTER_SECONDS[error.dependency]) } });
  }
  return undefined;
}

export interface ProblemErrorsOptions {
  logger: Logger;
  /** Names the route in the log line of an unexpected error. */
  route: string;
}

export function problemErrors(options: ProblemErrorsOptions): ApiMiddleware {
  return {
    onError(request) {
      const requestId = requestIdOf(request);
      let problem = toProblem(request.error);
      if (problem === undefined) {
        options.logger.error('unhandled error', { route: options.route, requestId, ...describeError(request.error) });
        problem = new HttpProblem('internal-error', 'Internal error', { detail: 'The error has been logged with this request id.' });
      }
      request.internal.problemType = problem.type;
      request.response = {
        statusCode: problem.status,
        headers: { 'content-type': PROBLEM_TYPE, ...problem.options.headers },
        body: JSON.stringify(problemBody(problem, requestId)),
      };
    },
  };
}
