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
}

export interface ApiRequest<T> {
  input: T;
  event: ApiEvent;
  requestId: string;
}

export interface ApiResponse {
  status: 200;
  body: Record<string, unknown>;
}

export const ok = (body: Record<string, unknown>): ApiResponse => ({ status: 200, body });

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  // Token responses are bearer credentials: no cache may keep them.
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=63072000; includeSubDomains',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
};

/** Headers on every response of the API, errors included (so browsers can read problems). */
export function responseHeaders(origin: string | undefined, settings: HttpSettings, requestId: string): Record<string, string> {
  return { ...SECURITY_HEADERS, ...corsResponseHeaders(origin, settings.corsOrigins), 'x-request-id': requestId };
}

function header(event: ApiEvent, name: string): string | undefined {
  // API Gateway v2 lowercases header names; a hand-made event may not.
  const headers = event.headers ?? {};
  return headers[name] ?? Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
}

export function requestIdOf(event: ApiEvent, context?: Pick<Context, 'awsRequestId'>): string {
  return event.requestContext?.requestId || context?.awsRequestId || randomUUID();
}

/** The envelope rules: POST, JSON, UTF-8, no content coding, at most 8 KiB. */
export function readJsonBody(event: ApiEvent, maxBytes = MAX_BODY_BYTES): unknown {
  const method = event.requestContext?.http?.method ?? 'POST';
  if (method !== 'POST') {
    throw new HttpProblem('method-not-allowed', 'This endpoint accepts POST only', { headers: { allow: 'POST' } });
  }
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

function jsonResult(status: number, body: unknown, headers: Record<string, string>): ApiResult {
  return { statusCode: status, headers, body: JSON.stringify(body) };
}

export interface ApiHandlerOptions<S extends RequestSchema> {
  route: string;
  schema: S;
  settings: HttpSettings;
  logger: Logger;
  handle(request: ApiRequest<Infer<S>>): Promise<ApiResponse>;
}

export function createApiHandler<S extends RequestSchema>(options: ApiHandlerOptions<S>) {
  const { route, schema, settings, logger } = options;
  const startedAt = new WeakMap<object, number>();

  const finish = (request: middy.Request<ApiEvent, ApiResult>, result: ApiResult, problemType?: string) => {
    const event = request.event;
    const requestId = requestIdOf(event, request.context);
    const headers = { ...responseHeaders(header(event, 'origin'), settings, requestId), ...(result.headers as Record<string, string>) };
    request.response = { ...result, headers };
    logger.info('request', {
      route,
      status: result.statusCode,
      problem: problemType,
      requestId,
      durationMs: Math.round(performance.now() - (startedAt.get(event) ?? performance.now())),
    });
  };

  const apiMiddleware: middy.MiddlewareObj<ApiEvent, ApiResult> = {
    name: 'jitsiTokenApi',
    before(request) {
      startedAt.set(request.event, performance.now());
    },
    after(request) {
      finish(request, request.response ?? jsonResult(200, {}, {}));
    },
    onError(request) {
      const error = request.error;
      const requestId = requestIdOf(request.event, request.context);
      if (error instanceof HttpProblem) {
        finish(request, jsonResult(error.status, problemBody(error, requestId), { 'content-type': 'application/problem+json', ...error.options.headers }), error.type);
        return;
      }
      // Anything else is a bug: log what it was (never its message), answer a bare 500.
      logger.error('unhandled error', { route, requestId, ...describeError(error) });
      const problem = new HttpProblem('internal-error', 'Internal error', { detail: 'The error has been logged with this request id.' });
      finish(request, jsonResult(500, problemBody(problem, requestId), { 'content-type': 'application/problem+json' }), problem.type);
    },
  };

  const base = async (event: ApiEvent, context: Context): Promise<ApiResult> => {
    const input = parseRequest(schema, readJsonBody(event));
    const response = await options.handle({ input, event, requestId: requestIdOf(event, context) });
    return jsonResult(response.status, response.body, { 'content-type': 'application/json' });
  };

  // No early-timeout timer: the handlers finish in milliseconds and a timer per call costs.
  return middy<ApiEvent, ApiResult>({ timeoutEarlyInMillis: 0 }).use(apiMiddleware).handler(base);
}
