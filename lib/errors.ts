// Domain errors: what went wrong, in the service's own terms. They know nothing of HTTP; the
// problem middleware (lib/http/problem-errors.ts) is the one place that maps them to statuses.

/** A request value breaks a rule. `field` names it; `detail` is our own text, never the value. */
export class InvalidInputError extends Error {
  override name = 'InvalidInputError';
  constructor(
    readonly field: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** The request as a whole is not a usable object (not per field). */
export class InvalidRequestError extends Error {
  override name = 'InvalidRequestError';
  constructor(
    readonly detail: string,
    readonly kind: 'invalid-request' | 'unknown-field' | 'invalid-json' = 'invalid-request',
  ) {
    super(detail);
  }
}

/** A value is larger than its limit (a whole credential, not a field to fix). */
export class TooLargeError extends Error {
  override name = 'TooLargeError';
  constructor(
    readonly field: string | undefined,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** No usable caller identity. */
export class UnauthenticatedError extends Error {
  override name = 'UnauthenticatedError';
  constructor(readonly detail: string) {
    super(detail);
  }
}

/** The caller is known but may not do this. */
export class ForbiddenError extends Error {
  override name = 'ForbiddenError';
  constructor(
    readonly detail: string,
    readonly field?: string,
  ) {
    super(detail);
  }
}

/** Nothing by that name (or nothing the caller may know of). */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
  constructor(readonly detail: string) {
    super(detail);
  }
}

/** The request conflicts with the appointment's state: cancelled, ended, or registered otherwise. */
export class AppointmentStateError extends Error {
  override name = 'AppointmentStateError';
  constructor(
    readonly state: 'cancelled' | 'ended' | 'conflict' | 'moved',
    readonly detail: string,
    readonly field?: string,
  ) {
    super(detail);
  }
}

/** The reservation API refuses a room: `detail` is what Prosody shows the person (never a name). */
export class RoomRefusedError extends Error {
  override name = 'RoomRefusedError';
  constructor(readonly detail: string) {
    super(detail);
  }
}

/** A join link that cannot be used: the same answer whether it was used, expired, cancelled or never existed. */
export class JoinLinkUnavailableError extends Error {
  override name = 'JoinLinkUnavailableError';
  readonly detail = 'This join link cannot be used. Ask your therapist for a new one.';
}

/** A dependency cannot answer right now: the request may be retried. */
export class UnavailableError extends Error {
  override name = 'UnavailableError';
  constructor(
    readonly dependency: 'secret' | 'store' | 'jitsi' | 'events',
    readonly detail: string,
  ) {
    super(detail);
  }
}

export type DomainError =
  | InvalidInputError
  | InvalidRequestError
  | TooLargeError
  | UnauthenticatedError
  | ForbiddenError
  | NotFoundError
  | AppointmentStateError
  | RoomRefusedError
  | JoinLinkUnavailableError
  | UnavailableError;

export const invalidField = (field: string, detail: string): InvalidInputError => new InvalidInputError(field, detail);
export const forbidden = (detail: string, field?: string): ForbiddenError => new ForbiddenError(detail, field);
export const unauthenticated = (detail: string): UnauthenticatedError => new UnauthenticatedError(detail);
export const secretUnavailable = (): UnavailableError => new UnavailableError('secret', 'The service cannot load its signing secret right now; retry shortly.');
/** A cancelled appointment: nothing more is issued for it. */
export const appointmentCancelled = (): AppointmentStateError => new AppointmentStateError('cancelled', 'This appointment was cancelled.');
/** An appointment whose window has closed. */
export const appointmentEnded = (): AppointmentStateError => new AppointmentStateError('ended', 'The appointment has already ended.');
export const storeUnavailable = (): UnavailableError => new UnavailableError('store', 'The appointment store cannot answer right now; retry shortly.');
