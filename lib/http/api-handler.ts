// A route's handler, composed where it can be seen: access log, response headers, problem+json
// errors, the reply serializer and (POST) the strict JSON body, around the route's own function.
import middy from '@middy/core';
import type { Deps } from '../deps.ts';
import { identifyCaller, type Caller } from '../policy.ts';
import type { RouteDefinition } from '../routes.ts';
import { parseRequest, type Infer, type RequestSchema } from '../schema.ts';
import { accessLog } from './access-log.ts';
import { bearerKey } from './bearer-key.ts';
import { formBody } from './form-body.ts';
import { problemErrors } from './problem-errors.ts';
import { replySerializer } from './reply.ts';
import { responseHeaders } from './response-headers.ts';
import { requireMethod, strictJsonBody, type EventWithInput } from './strict-json-body.ts';
import type { Context } from 'aws-lambda';
import type { ApiEvent, ApiResult, Reply } from './types.ts';

export interface RouteCall<T> {
  /** The body, path and query parameters, parsed and validated by the route's schemas. */
  input: T;
  /** API Gateway's request id: the audit trail and the log line name it. */
  requestId: string;
  /** The authenticated caller, or undefined with AUTH_MODE=none (and on public routes). */
  caller: Caller | undefined;
  event: ApiEvent;
}

export type RouteFunction<T> = (call: RouteCall<T>) => Promise<Reply>;

/** Path and query parameters, parsed like body fields; absent ones are absent, unknown query parameters refused. */
function parameters(event: ApiEvent, params: RequestSchema | undefined, query: RequestSchema | undefined): Record<string, unknown> {
  const parsedParams = params === undefined ? {} : parseRequest(params, { ...event.pathParameters });
  if (query === undefined) return parsedParams;
  const given = Object.fromEntries(Object.entries(event.queryStringParameters ?? {}).filter(([, value]) => value !== undefined && value !== ''));
  return { ...parsedParams, ...parseRequest(query, given) };
}

/**
 * The outer middlewares every answer passes through, a route's or the router's refusal: the
 * access log line, the response headers and problem+json errors. No early-timeout timer: the
 * handlers finish in milliseconds and a timer per call costs.
 */
function answerStack(deps: Pick<Deps, 'settings' | 'logger'>, routeName: string) {
  const { settings, logger } = deps;
  return middy<ApiEvent, ApiResult>({ timeoutEarlyInMillis: 0 })
    .use(accessLog({ logger, route: routeName, authMode: settings.authMode }))
    .use(responseHeaders({ corsOrigins: settings.corsOrigins }))
    .use(problemErrors({ logger, route: routeName }));
}

export function createApiHandler<S extends RequestSchema, P extends RequestSchema = Record<never, never>, Q extends RequestSchema = Record<never, never>>(
  route: RouteDefinition<S, P, Q>,
  deps: Pick<Deps, 'settings' | 'logger'> & Partial<Pick<Deps, 'reservationKey' | 'eventsKey'>>,
  handle: RouteFunction<Infer<S> & Infer<P> & Infer<Q>>,
) {
  const { settings } = deps;
  const schema = route.request?.(settings);
  const params = route.params?.();
  const query = route.query?.();
  const base = async (event: ApiEvent, context: Context): Promise<ApiResult> => {
    if (schema === undefined) requireMethod(event, route.method);
    const body = schema === undefined ? {} : (event as EventWithInput<Infer<S>>).input;
    const input = (params === undefined && query === undefined ? body : { ...parameters(event, params, query), ...body }) as Infer<S> & Infer<P> & Infer<Q>;
    const requestId = event.requestContext?.requestId || context?.awsRequestId || 'unknown-request';
    // No claims on a caller route in jwt mode means the authorizer is missing: 401, never a guess.
    const caller = route.caller === 'required' ? identifyCaller(event, settings) : undefined;
    // The reply serializer turns the reply into the result.
    return (await handle({ input, caller, event, requestId })) as unknown as ApiResult;
  };
  const handler = answerStack(deps, route.name).use(replySerializer());
  if (route.caller === 'prosody') {
    const keyName = route.key ?? 'reservations';
    const key = keyName === 'events' ? deps.eventsKey : deps.reservationKey;
    if (key === undefined) throw new TypeError(`${route.name} needs the ${keyName} key`);
    handler.use(bearerKey({ key: () => key.get(), name: keyName === 'events' ? 'event sync API key' : 'reservation API key' }));
  }
  if (schema !== undefined) {
    handler.use(
      route.bodyFormat === 'form'
        ? formBody({ schema })
        : strictJsonBody({
            schema,
            method: route.method,
            ...(route.maxBodyBytes === undefined ? {} : { maxBytes: route.maxBodyBytes }),
            ...(route.unknownFields === undefined ? {} : { unknownFields: route.unknownFields }),
          }),
    );
  }
  return handler.handler(base);
}

/**
 * Answers a request the router itself refuses (no such route, wrong method, body too large, no
 * caller token) through the same middlewares as every route: same headers, body and log line.
 */
export function createRefusalResponder(deps: Pick<Deps, 'settings' | 'logger'>, routeName: string) {
  const responder = answerStack(deps, routeName).handler(async (event) => {
    throw (event as ApiEvent & { refusal: Error }).refusal;
  });
  return (event: ApiEvent, refusal: Error, context: Pick<Context, 'awsRequestId'>): Promise<ApiResult> =>
    responder({ ...event, refusal } as ApiEvent, context as Context);
}
