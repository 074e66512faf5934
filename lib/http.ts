// The one middy stack every handler shares: body envelope and JSON rules, schema validation,
// problem+json errors, security and CORS headers, one access-log line per request.
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { corsResponseHeaders } from './cors.ts';
import { parseStrictJson } from './json.ts';
import { describeError, type Logger } from './log.ts';
import { HttpProblem, problemBody } from './problem.ts';
import { MAX_BODY_BYTES } from './requests.ts';
import { parseRequest, type Infer, type RequestSchema } from './schema.ts';

export type ApiEvent = APIGatewayProxyEventV2;
export type ApiResult = APIGatewayProxyStructuredResultV2;

export interface HttpSettings {
  corsOrigins: readonly string[] | 'localhost';
  authMode: 'none' | 'jwt';
}

export interface ApiRequest<T> {
  input: T;
  event: ApiEvent;
}

/** Tokens a response carries, for the audit fields of the request's log line. */
export interface IssuedTokens {
  moderatorTokens: number;
  participantTokens: number;
}

export interface ApiResponse {
  status: 200;
  body: Record<string, unknown>;
  issued?: IssuedTokens;
}

/** A public, cacheable text document (the RS256 public keys), instead of a JSON body. */
export interface TextResponse {
  status: 200;
  text: string;
  contentType: string;
  cacheControl: string;
}

/** The audit fields of a response that carries one token. */
export const oneToken = (moderator: boolean): IssuedTokens => ({ moderatorTokens: moderator ? 1 : 0, participantTokens: moderator ? 0 : 1 });

export const ok = (body: Record<string, unknown>, issued?: IssuedTokens): ApiResponse => (issued ? { status: 200, body, issued } : { status: 200, body });

export const JSON_TYPE = 'application/json';
export const PROBLEM_TYPE = 'application/problem+json';

/** Headers on every response of the API, errors included (so browsers can read problems). */
export function responseHeaders(origin: string | undefined, settings: HttpSettings, requestId: string, contentType: string, extra?: Readonly<Record<string, string>>): Record<string, string> {
  // One object literal of a fixed shape: this runs on every request.
  const headers: Record<string, string> = {
    'content-type': contentType,
    // Token responses are bearer credentials: no cache may keep them.
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'strict-transport-security': 'max-age=63072000; includeSubDomains',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'x-request-id': requestId,
    vary: 'origin',
  };
  if (origin !== undefined) Object.assign(headers, corsResponseHeaders(origin, settings.corsOrigins));
  return extra ? Object.assign(headers, extra) : headers;
}

/** API Gateway's payload format 2.0 (and the local server) gives header names in lowercase. */
function header(event: ApiEvent, name: string): string | undefined {
  return event.headers?.[name];
}

export function requestIdOf(event: ApiEvent, context?: Pick<Context, 'awsRequestId'>): string {
  return event.requestContext?.requestId || context?.awsRequestId || randomUUID();
}

function requireMethod(event: ApiEvent, allowed: 'POST' | 'GET'): void {
  const method = event.requestContext?.http?.method ?? allowed;
  if (method !== allowed) throw new HttpProblem('method-not-allowed', `This endpoint accepts ${allowed} only`, { headers: { allow: allowed } });
}

/** The envelope rules: POST, JSON, UTF-8, no content coding, at most 8 KiB. */
export function readJsonBody(event: ApiEvent, maxBytes = MAX_BODY_BYTES): unknown {
  requireMethod(event, 'POST');
  const encoding = header(event, 'content-encoding');
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    throw new HttpProblem('unsupported-media-type', 'Compressed request bodies are not accepted', { detail: 'Send the JSON body without Content-Encoding.' });
  }
  const mediaType = /^\s*application\/json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;
  const contentType = header(event, 'content-type');
  if (contentType === undefined || !mediaType.test(contentType)) {
    throw new HttpProblem('unsupported-media-type', 'The request body must be JSON', { detail: 'Send Content-Type: application/json (UTF-8).' });
  }
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > maxBytes) {
    throw new HttpProblem('payload-too-large', 'The request body is too large', { detail: `The body must be at most ${maxBytes} bytes.` });
  }
  if (bytes.length === 0) throw new HttpProblem('invalid-json', 'The request body is not acceptable JSON', { detail: 'The body is empty.' });
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new HttpProblem('invalid-json', 'The request body is not acceptable JSON', { detail: 'The body is not valid UTF-8.' });
  }
  return parseStrictJson(text);
}

export interface ApiHandlerOptions<S extends RequestSchema> {
  route: string;
  /** POST with a JSON body validated by the schema (the default), or GET with no body. */
  method?: 'POST' | 'GET';
  schema: S;
  settings: HttpSettings;
  logger: Logger;
  handle(request: ApiRequest<Infer<S>>): Promise<ApiResponse | TextResponse>;
}

export function createApiHandler<S extends RequestSchema>(options: ApiHandlerOptions<S>) {
  const { route, schema, settings, logger } = options;
  /** Per request, keyed by its event: when it started and what the handler answered. */
  const inFlight = new WeakMap<object, { startedAt: number; response?: ApiResponse | TextResponse }>();

  /** Turns the handler's answer (or the problem) into the HTTP result, and logs the request. */
  const finish = (request: middy.Request<ApiEvent, ApiResult>, problem?: HttpProblem) => {
    const event = request.event;
    const requestId = requestIdOf(event, request.context);
    const origin = header(event, 'origin');
    const state = inFlight.get(event);
    const response = problem ? undefined : state?.response;
    if (problem) {
      const headers = responseHeaders(origin, settings, requestId, PROBLEM_TYPE, problem.options.headers);
      request.response = { statusCode: problem.status, headers, body: JSON.stringify(problemBody(problem, requestId)) };
    } else if (response && 'text' in response) {
      const headers = responseHeaders(origin, settings, requestId, response.contentType, { 'cache-control': response.cacheControl });
      request.response = { statusCode: response.status, headers, body: response.text };
    } else {
      const headers = responseHeaders(origin, settings, requestId, JSON_TYPE);
      request.response = { statusCode: response?.status ?? 200, headers, body: JSON.stringify(response?.body ?? {}) };
    }
    // One line per request; who asked is the request id, never a name or an email.
    const issued = response && 'issued' in response ? response.issued : undefined;
    const fields = {
      route,
      status: request.response.statusCode,
      problem: problem?.type,
      requestId,
      durationMs: state ? Math.round(performance.now() - state.startedAt) : undefined,
      authMode: settings.authMode,
      moderatorTokens: issued?.moderatorTokens,
      participantTokens: issued?.participantTokens,
    };
    if (issued && settings.authMode === 'none') logger.warn('tokens issued without caller authentication (AUTH_MODE=none)', fields);
    else logger.info(issued ? 'tokens issued' : 'request', fields);
  };

  const apiMiddleware: middy.MiddlewareObj<ApiEvent, ApiResult> = {
    name: 'jitsiTokenApi',
    after(request) {
      finish(request);
    },
    onError(request) {
      const requestId = requestIdOf(request.event, request.context);
      let problem = request.error;
      if (!(problem instanceof HttpProblem)) {
        // Anything else is a bug: log what it was (never its message), answer a bare 500.
        logger.error('unhandled error', { route, requestId, ...describeError(problem) });
        problem = new HttpProblem('internal-error', 'Internal error', { detail: 'The error has been logged with this request id.' });
      }
      finish(request, problem as HttpProblem);
    },
  };

  // The handler's answer is turned into the HTTP result once, with its headers, in finish.
  const base = async (event: ApiEvent): Promise<ApiResult> => {
    const state: { startedAt: number; response?: ApiResponse | TextResponse } = { startedAt: performance.now() };
    inFlight.set(event, state);
    let input: Infer<S>;
    if (options.method === 'GET') {
      requireMethod(event, 'GET');
      input = parseRequest(schema, {});
    } else {
      input = parseRequest(schema, readJsonBody(event));
    }
    const response = await options.handle({ input, event });
    state.response = response;
    return { statusCode: response.status };
  };

  // No early-timeout timer: the handlers finish in milliseconds and a timer per call costs.
  return middy<ApiEvent, ApiResult>({ timeoutEarlyInMillis: 0 }).use(apiMiddleware).handler(base);
}
