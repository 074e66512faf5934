// Each HTTP middleware alone, the way middy composes it: middy(handler).use(middleware).
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { ForbiddenError, InvalidInputError, UnavailableError } from '../../lib/errors.ts';
import { accessLog } from '../../lib/http/access-log.ts';
import { problemErrors } from '../../lib/http/problem-errors.ts';
import { replySerializer } from '../../lib/http/reply.ts';
import { responseHeaders } from '../../lib/http/response-headers.ts';
import { strictJsonBody, type EventWithInput } from '../../lib/http/strict-json-body.ts';
import type { ApiEvent, ApiResult } from '../../lib/http/types.ts';
import { createLogger } from '../../lib/log.ts';
import { HttpProblem } from '../../lib/problem.ts';
import { textField } from '../../lib/schema.ts';
import type { IssuedToken } from '../../lib/issue.ts';

const context = { awsRequestId: 'lambda-request' } as Context;
const event = (overrides: Partial<ApiEvent> = {}): ApiEvent =>
  ({
    headers: { 'content-type': 'application/json' },
    requestContext: { requestId: 'gateway-request', http: { method: 'POST' } },
    body: '{"name":"Ada"}',
    isBase64Encoded: false,
    ...overrides,
  }) as ApiEvent;
const logLines = () => {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: createLogger((line) => lines.push(JSON.parse(line))) };
};
const ok: ApiResult = { statusCode: 200, body: '{}' };

describe('strictJsonBody', () => {
  const schema = { name: textField('a name', { maxChars: 10, maxBytes: 10 }, 'a short name').required };
  const handler = middy<ApiEvent, ApiResult>({ timeoutEarlyInMillis: 0 })
    .use(strictJsonBody({ schema, maxBytes: 64 }))
    .handler(async (input) => ({ statusCode: 200, body: JSON.stringify((input as EventWithInput<unknown>).input) }));

  it('leaves the validated input on the event', async () => {
    expect(await handler(event(), context)).toEqual({ statusCode: 200, body: '{"name":"Ada"}' });
  });

  it.each([
    ['a GET', event({ requestContext: { requestId: 'r', http: { method: 'GET' } } as never }), 'method-not-allowed'],
    ['no content type', event({ headers: {} }), 'unsupported-media-type'],
    ['gzip', event({ headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } }), 'unsupported-media-type'],
    ['a body over the limit', event({ body: JSON.stringify({ name: 'x'.repeat(80) }) }), 'payload-too-large'],
    ['an empty body', event({ body: '' }), 'invalid-json'],
    ['not UTF-8', event({ body: Buffer.from([0xff, 0xfe]).toString('base64'), isBase64Encoded: true }), 'invalid-json'],
  ])('refuses %s with the HTTP problem, in the contract order', async (_, refused, type) => {
    const error = await handler(refused, context).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HttpProblem);
    expect((error as HttpProblem).type).toBe(type);
  });

  it('leaves a field rule to the schema: a domain error naming the field', async () => {
    const error = await handler(event({ body: '{"name":"far too long a name"}' }), context).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).field).toBe('name');
  });
});

describe('problemErrors', () => {
  const failWith = (error: unknown) => {
    const { lines, logger } = logLines();
    const handler = middy<ApiEvent, ApiResult>({ timeoutEarlyInMillis: 0 })
      .use(problemErrors({ logger, route: 'test' }))
      .handler(async () => {
        throw error;
      });
    return { lines, result: handler(event(), context) };
  };

  it('maps domain errors to problem+json with the field, the request id and the headers they need', async () => {
    const invalid = await failWith(new InvalidInputError('roomName', 'must be a room name')).result;
    expect(invalid.statusCode).toBe(400);
    expect(invalid.headers).toEqual({ 'content-type': 'application/problem+json' });
    expect(JSON.parse(invalid.body!)).toEqual({
      type: 'urn:jitsi-token-api:problem:invalid-field',
      title: 'A request field is invalid',
      status: 400,
      field: 'roomName',
      detail: 'must be a room name',
      requestId: 'gateway-request',
      // Extra members for clients that show `message` (the web client, Prosody).
      error: 'A request field is invalid',
      message: 'must be a room name',
    });
    expect((await failWith(new ForbiddenError('not yours')).result).statusCode).toBe(403);
    const unavailable = await failWith(new UnavailableError('secret', 'later')).result;
    expect(unavailable.statusCode).toBe(503);
    expect(unavailable.headers?.['retry-after']).toBe('5');
  });

  it('answers anything else as a bare 500 and logs its class, never its message', async () => {
    const { lines, result } = failWith(new TypeError('secret-looking message'));
    const answer = await result;
    expect(answer.statusCode).toBe(500);
    expect(answer.body).not.toContain('secret-looking');
    expect(lines[0]).toMatchObject({ level: 'error', errorName: 'TypeError', route: 'test', requestId: 'gateway-request' });
    expect(JSON.stringify(lines)).not.toContain('secret-looking');
  });
});

describe('replySerializer', () => {
  const serve = (reply: unknown) =>
    middy<ApiEvent, ApiResult>({ timeoutEarlyInMillis: 0 })
      .use(replySerializer())
      .handler(async () => reply as ApiResult)(event(), context);

  it('turns a JSON reply into a 200 JSON result and a text reply into its document', async () => {
    expect(await serve({ body: { a: 1 } })).toEqual({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(await serve({ text: 'PEM', contentType: 'application/x-pem-file', cacheControl: 'public, max-age=60' })).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/x-pem-file', 'cache-control': 'public, max-age=60' },
      body: 'PEM',
    });
  });
});

describe('responseHeaders', () => {
  const handler = (result: ApiResult | Error) =>
    middy<ApiEvent, ApiResult>({ timeoutEarlyInMillis: 0 })
      .use(responseHeaders({ corsOrigins: ['https://app.example.com'] }))
      .use(problemErrors({ logger: createLogger(() => {}), route: 'test' }))
      .handler(async () => {
        if (result instanceof Error) throw result;
        return result;
      });

  it('adds no-store, the security headers, the request id and CORS for an allowed origin, keeping the content type', async () => {
    const result = await handler({ ...ok, headers: { 'content-type': 'application/json' } })(
      event({ headers: { origin: 'https://app.example.com' } }),
      context,
    );
    expect(result.headers).toMatchObject({
      'content-type': 'application/json',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-request-id': 'gateway-request',
      'access-control-allow-origin': 'https://app.example.com',
      vary: 'origin',
    });
  });

  it('adds them to problems too, and no CORS for another origin', async () => {
    const result = await handler(new ForbiddenError('no'))(event({ headers: { origin: 'https://evil.example' } }), context);
    expect(result.statusCode).toBe(403);
    expect(result.headers?.['content-type']).toBe('application/problem+json');
    expect(result.headers?.['x-request-id']).toBe('gateway-request');
    expect(result.headers?.['access-control-allow-origin']).toBeUndefined();
  });
});

describe('accessLog', () => {
  const token = (moderator: boolean) => ({ moderator }) as IssuedToken;

  it('writes one line per request, counting tokens by role from the reply, and warns when they went out unauthenticated', async () => {
    const { lines, logger } = logLines();
    const handler = middy<ApiEvent, ApiResult>({ timeoutEarlyInMillis: 0 })
      .use(accessLog({ logger, route: 'test', authMode: 'none' }))
      .use(replySerializer())
      .handler(async () => ({ body: { ok: true }, tokens: [token(true), token(false), token(false)] }) as unknown as ApiResult);
    await handler(event(), context);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', route: 'test', status: 200, requestId: 'gateway-request', moderatorTokens: 1, participantTokens: 2 });
    expect(typeof lines[0]!.durationMs).toBe('number');
  });

  it('logs a refusal with its problem type and no token counts', async () => {
    const { lines, logger } = logLines();
    const handler = middy<ApiEvent, ApiResult>({ timeoutEarlyInMillis: 0 })
      .use(accessLog({ logger, route: 'test', authMode: 'jwt' }))
      .use(problemErrors({ logger, route: 'test' }))
      .handler(async () => {
        throw new ForbiddenError('no');
      });
    await handler(event(), context);
    expect(lines).toEqual([expect.objectContaining({ level: 'info', message: 'request', status: 403, problem: 'forbidden' })]);
    expect(lines[0]!.moderatorTokens).toBeUndefined();
  });
});

describe('LOG_LEVEL', () => {
  it('drops lines less severe than the level, so per-request info lines can be turned down', () => {
    const lines: string[] = [];
    const logger = createLogger((line) => lines.push(line), 'svc', 'warn');
    logger.info('request', { status: 200 });
    logger.warn('tokens issued without caller authentication');
    logger.error('unhandled error');
    expect(lines.map((line) => JSON.parse(line).level)).toEqual(['warn', 'error']);
  });
});
