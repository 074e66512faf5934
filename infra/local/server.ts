// `npm start`: the route table's handlers on node:http, called the way API Gateway's HTTP API
// calls them (payload format 2.0), built from the same dependencies a function builds.
import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { SETTINGS } from '#lib/config';
import { preflightHeaders } from '#lib/cors';
import { createRefusalResponder } from '#lib/http/api-handler';
import { handlerFactoryOf } from '#lib/http/function-handler';
import { MAX_FORM_BYTES } from '#lib/http/form-body';
import { MAX_BODY_BYTES } from '#lib/http/strict-json-body';
import { HttpProblem } from '#lib/problem';
import { functionOf, matchRoute, routeKeyOf, ROUTES, routes, type RouteDefinition } from '#lib/routes';
import { gatewayEvent, type GatewayOrigin } from './gateway-event.ts';
import type { Authenticator } from './auth.ts';
import type { LocalDeps } from './deps.ts';

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Slow or idle clients are cut off: header and request deadlines, and a connection cap. */
export const LOCAL_SERVER_LIMITS = {
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 256,
  /** How often Node checks the two deadlines (its default, 30 s, let a silent socket hold a slot for up to 35 s). */
  deadlineCheckIntervalMs: 1_000,
} as const;

type LambdaHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;
type HandlerFactory = (deps: LocalDeps) => LambdaHandler;

interface LoadedRoute {
  route: RouteDefinition;
  handler: LambdaHandler;
}

const importModule = async (entry: string) => (await import(pathToFileURL(resolve(PROJECT_ROOT, entry)).href)) as Record<string, unknown>;

/**
 * Each route's handler, as deployed: a deployed route is answered by its function's handler
 * (FUNCTIONS), which dispatches on the event's routeKey exactly as in Lambda; a local-only
 * route by its own. One function handler per function, so its routes share one set of handlers.
 */
export async function loadRouteHandlers(deps: LocalDeps, table: readonly RouteDefinition[] = routes): Promise<LoadedRoute[]> {
  const functionHandlers = new Map<string, Promise<LambdaHandler>>();
  const handlerOf = (entry: string) => {
    if (!functionHandlers.has(entry))
      functionHandlers.set(
        entry,
        importModule(entry).then((module) => handlerFactoryOf<HandlerFactory>(module, entry)(deps)),
      );
    return functionHandlers.get(entry)!;
  };
  return Promise.all(table.map(async (route) => ({ route, handler: await handlerOf((functionOf(route) ?? route).entry) })));
}

/** The largest body a route takes (its handler refuses more): reading stops there. */
const bodyLimitOf = (route: RouteDefinition): number => (route.bodyFormat === 'form' ? MAX_FORM_BYTES : MAX_BODY_BYTES);

/** Reads the body up to the limit; past it, stops reading and answers 'too-large' (the caller closes the connection). */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.off('data', onData);
        request.pause();
        resolvePromise('too-large');
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.on('end', () => resolvePromise(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** The path of a request target, or undefined for one no URL parser accepts (`//[`, bad ports). */
function pathOf(target: string | undefined): string | undefined {
  try {
    return new URL(target ?? '/', 'http://localhost').pathname;
  } catch {
    return undefined;
  }
}

const LOOPBACK_HOST = /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])(:\d{1,5})?$/i;

/** DNS rebinding: a page on another site that resolves its name to 127.0.0.1 still sends its own Host. */
function isServedHost(host: string | undefined, extra: readonly string[]): boolean {
  if (host === undefined) return false;
  return LOOPBACK_HOST.test(host) || extra.includes(host.toLowerCase().replace(/:\d{1,5}$/, ''));
}

/** Text bodies travel as strings; anything else base64-encoded, as API Gateway does. */
function isTextContent(contentType: string | undefined): boolean {
  return contentType !== undefined && /^\s*(text\/|application\/([\w.+-]*\+)?json\b|application\/(xml|javascript|x-www-form-urlencoded))/i.test(contentType);
}

export function toApiGatewayEvent(
  request: IncomingMessage,
  body: Buffer,
  route: Pick<RouteDefinition, 'method' | 'path'>,
  requestId: string,
  claims?: Record<string, unknown>,
  pathParameters?: Record<string, string>,
): APIGatewayProxyEventV2 {
  const url = pathOf(request.url) === undefined ? new URL('http://localhost/') : new URL(request.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || name === 'cookie') continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
  const now = new Date();
  // Bytes that are not UTF-8 travel base64-encoded, so the handler sees exactly what was sent.
  const text = isTextContent(headers['content-type']) && isUtf8(body);
  const host = headers.host ?? 'localhost';
  const origin: GatewayOrigin = {
    accountId: 'local',
    apiId: 'local',
    domainName: host,
    domainPrefix: host.split('.')[0] ?? 'localhost',
    sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
    userAgent: headers['user-agent'] ?? '',
    protocol: `HTTP/${request.httpVersion}`,
  };
  return gatewayEvent(origin, {
    routeKey: routeKeyOf(route),
    method: request.method ?? 'GET',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    cookies: request.headers.cookie ? request.headers.cookie.split(/;\s*/) : undefined,
    queryStringParameters: url.search ? query : undefined,
    pathParameters: pathParameters && Object.keys(pathParameters).length > 0 ? pathParameters : undefined,
    body: body.length > 0 ? (text ? body.toString('utf8') : body.toString('base64')) : undefined,
    isBase64Encoded: body.length > 0 && !text,
    requestId,
    time: now.toISOString(),
    timeEpoch: now.getTime(),
    claims,
  });
}

interface HttpResult {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
  body: Buffer;
}

/** Payload format 2.0: a result without statusCode is a 200 JSON body of the whole result. */
export function fromLambdaResult(result: unknown): HttpResult {
  if (typeof result === 'object' && result !== null && 'statusCode' in result) {
    const structured = result as { statusCode: number; headers?: Record<string, unknown>; cookies?: string[]; body?: string; isBase64Encoded?: boolean };
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(structured.headers ?? {})) headers[name.toLowerCase()] = String(value);
    const body = structured.body ?? '';
    return {
      statusCode: structured.statusCode,
      headers,
      cookies: structured.cookies ?? [],
      body: structured.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8'),
    };
  }
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, cookies: [], body: Buffer.from(JSON.stringify(result ?? null), 'utf8') };
}

const PAGE_HEADERS = {
  'content-security-policy': "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** The developer console: static files, and its configuration from the settings and the route table. */
function consolePages(deps: LocalDeps): Map<string, HttpResult> {
  const { settings } = deps;
  const file = (name: string) => readFileSync(resolve(PROJECT_ROOT, 'infra/local/console', name));
  const page = (contentType: string, body: Buffer): HttpResult => ({
    statusCode: 200,
    headers: { ...PAGE_HEADERS, 'content-type': contentType },
    cookies: [],
    body,
  });
  const config = {
    jitsiDomain: settings.jitsiDomain,
    sub: settings.defaultTenant ?? settings.sub,
    authMode: settings.authMode,
    routes: routes.filter((route) => route.example !== undefined).map((route) => ({ name: route.name, path: route.path, example: route.example })),
    // The token doctor the console asks about a token.
    validateTokenPath: ROUTES.validateToken.path,
  };
  return new Map([
    ['/', page('text/html; charset=utf-8', file('index.html'))],
    ['/console/console.js', page('text/javascript; charset=utf-8', file('console.js'))],
    ['/console/console.css', page('text/css; charset=utf-8', file('console.css'))],
    ['/console/config.json', page('application/json', Buffer.from(JSON.stringify(config, null, 2)))],
  ]);
}

function send(response: ServerResponse, result: HttpResult): void {
  const headers: Record<string, string | string[]> = { ...result.headers, 'content-length': String(result.body.length) };
  if (result.cookies.length > 0) headers['set-cookie'] = result.cookies;
  response.writeHead(result.statusCode, headers);
  response.end(result.body);
}

export interface LocalServerOptions {
  deps: LocalDeps;
  port?: number;
  host?: string;
  /** Required when AUTH_MODE=jwt: turns the Authorization header into caller claims. */
  authenticate?: Authenticator;
}

export interface RunningServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

const UNAUTHENTICATED = () =>
  new HttpProblem('unauthenticated', 'The caller is not authenticated', {
    detail: 'Send a valid caller token: Authorization: Bearer <token>.',
    headers: { 'www-authenticate': 'Bearer' },
  });

export async function startLocalServer(options: LocalServerOptions): Promise<RunningServer> {
  const { deps } = options;
  const { settings, logger } = deps;
  if (settings.authMode === 'jwt' && options.authenticate === undefined) {
    throw new Error(
      `${SETTINGS.authMode.variable}=jwt needs ${SETTINGS.authIssuer.variable} and ${SETTINGS.authAudience.variable} so the local server can check caller tokens`,
    );
  }
  const loaded = await loadRouteHandlers(deps);
  const pages = consolePages(deps);
  const refuse = createRefusalResponder(deps, 'local-server');

  // The deadlines go in createServer's options: the check interval cannot be changed afterwards.
  const serverOptions = {
    headersTimeout: LOCAL_SERVER_LIMITS.headersTimeoutMs,
    requestTimeout: LOCAL_SERVER_LIMITS.requestTimeoutMs,
    keepAliveTimeout: LOCAL_SERVER_LIMITS.keepAliveTimeoutMs,
    connectionsCheckingInterval: LOCAL_SERVER_LIMITS.deadlineCheckIntervalMs,
  };
  const server = createServer(serverOptions, async (request, response) => {
    const requestId = randomUUID();
    const origin = request.headers.origin;
    /** The router's own refusals go through the same middlewares as the routes. */
    const refuseWith = async (
      problem: HttpProblem,
      route: Pick<RouteDefinition, 'method' | 'path'> = { method: 'GET', path: '$default' },
      closeConnection = false,
    ) => {
      if (!closeConnection) request.resume();
      const event = toApiGatewayEvent(request, Buffer.alloc(0), route, requestId);
      const result = fromLambdaResult(await refuse(event, problem, { awsRequestId: requestId }));
      if (closeConnection) result.headers.connection = 'close';
      send(response, result);
      // Past the limit nothing more is read: the rest of the body is not waited for.
      if (closeConnection) response.once('finish', () => request.socket.destroy());
    };
    try {
      if (!isServedHost(request.headers.host, settings.localHostnames)) {
        return await refuseWith(
          new HttpProblem('invalid-request', 'This server does not answer for that host name', {
            detail: 'Use localhost, 127.0.0.1 or [::1], or add the name to the local host names setting.',
          }),
        );
      }
      const path = pathOf(request.url);
      if (path === undefined) return await refuseWith(new HttpProblem('invalid-request', 'The request target is not a valid URL'));
      const page = request.method === 'GET' || request.method === 'HEAD' ? pages.get(path) : undefined;
      if (page) {
        request.resume();
        return send(response, page);
      }
      const matches = loaded.flatMap((entry) => {
        const parameters = matchRoute(entry.route, path);
        return parameters ? [{ ...entry, parameters }] : [];
      });
      if (matches.length === 0) return await refuseWith(new HttpProblem('not-found', 'No such endpoint'));
      const allowed = matches.map(({ route }) => route.method);
      if (request.method === 'OPTIONS') {
        request.resume();
        return send(response, { statusCode: 204, headers: preflightHeaders(origin, settings.corsOrigins, allowed), cookies: [], body: Buffer.alloc(0) });
      }
      const match = matches.find(({ route }) => route.method === request.method);
      if (match === undefined) {
        return await refuseWith(
          new HttpProblem('method-not-allowed', 'Method not allowed on this endpoint', { headers: { allow: allowed.join(', ') } }),
          matches[0]!.route,
        );
      }
      // Like API Gateway's JWT authorizer: no valid caller token, no invocation, and the body is
      // not even read.
      let claims: Record<string, unknown> | undefined;
      if (settings.authMode === 'jwt' && options.authenticate && match.route.caller === 'required') {
        try {
          claims = await options.authenticate(request.headers.authorization);
        } catch {
          return await refuseWith(UNAUTHENTICATED(), match.route);
        }
      }
      const limit = bodyLimitOf(match.route);
      const tooLarge = () => new HttpProblem('payload-too-large', 'The request body is too large', { detail: `The body must be at most ${limit} bytes.` });
      if (Number(request.headers['content-length'] ?? 0) > limit) return await refuseWith(tooLarge(), match.route, true);
      const body = await readBody(request, limit);
      if (body === 'too-large') return await refuseWith(tooLarge(), match.route, true);
      const event = toApiGatewayEvent(request, body, match.route, requestId, claims, match.parameters);
      const context = { awsRequestId: requestId, functionName: match.route.name, callbackWaitsForEmptyEventLoop: false } as Context;
      send(response, fromLambdaResult(await match.handler(event, context)));
    } catch (error) {
      logger.error('local server error', { requestId, errorName: error instanceof Error ? error.name : typeof error });
      if (!response.headersSent) await refuseWith(new HttpProblem('internal-error', 'Internal error')).catch(() => response.destroy());
    }
  });
  server.maxConnections = LOCAL_SERVER_LIMITS.maxConnections;

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? settings.port, options.host ?? settings.host, () => resolvePromise());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    server,
    close: () =>
      new Promise<void>((resolvePromise) => {
        server.close(() => resolvePromise());
        server.closeAllConnections();
      }),
  };
}
