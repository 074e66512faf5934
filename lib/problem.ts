// RFC 9457 problem details: the stable types clients switch on, and the body we send. The
// problem middleware (lib/http/problem-errors.ts) is the only place that builds one from an error.

/** Stable problem types: clients switch on these, so a slug never changes meaning. */
export const PROBLEM_TYPES = {
  'invalid-json': 400,
  'invalid-field': 400,
  'unknown-field': 400,
  'invalid-request': 400,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  'room-refused': 403,
  'join-link-unavailable': 404,
  'method-not-allowed': 405,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  'appointment-cancelled': 409,
  'appointment-ended': 409,
  'appointment-conflict': 409,
  'appointment-moved': 409,
  throttled: 429,
  'internal-error': 500,
  'secret-unavailable': 503,
  'store-unavailable': 503,
  'jitsi-unavailable': 503,
  'events-unavailable': 503,
  'not-configured': 501,
} as const;

export type ProblemType = keyof typeof PROBLEM_TYPES;

export const PROBLEM_TYPE_PREFIX = 'urn:jitsi-token-api:problem:';

export interface ProblemOptions {
  /** The request field at fault (a JSON pointer-like dotted path), never its value. */
  field?: string;
  /** A fixed explanation written by us, never built from the caller's input. */
  detail?: string;
  headers?: Record<string, string>;
}

/** An HTTP answer that is not a success: a type, a title, and what the caller may see. */
export class HttpProblem extends Error {
  readonly status: number;

  constructor(
    readonly type: ProblemType,
    readonly title: string,
    readonly options: ProblemOptions = {},
  ) {
    super(title);
    this.name = 'HttpProblem';
    this.status = PROBLEM_TYPES[type];
  }
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  field?: string;
  requestId: string;
  /** The title again, for clients that read `error`. */
  error: string;
  /** What a person should read: the detail, else the title (the web client and Prosody show `message`). */
  message: string;
}

export function problemBody(problem: HttpProblem, requestId: string): ProblemBody {
  const body: ProblemBody = {
    type: PROBLEM_TYPE_PREFIX + problem.type,
    title: problem.title,
    status: problem.status,
    requestId,
    error: problem.title,
    message: problem.options.detail ?? problem.title,
  };
  if (problem.options.detail !== undefined) body.detail = problem.options.detail;
  if (problem.options.field !== undefined) body.field = problem.options.field;
  return body;
}

/** Seconds a client should wait before retrying when a dependency cannot answer. */
export const RETRY_AFTER_SECONDS = { secret: 5, store: 2, jitsi: 5, events: 2 } as const;
