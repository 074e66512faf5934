// Builds the real handlers from the route table with dependencies made from a given
// environment map: no module reset, no process.env edits. The AWS SDK settings in the map (a
// loopback endpoint, fake credentials) go to the SDK clients as explicit configuration.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { loadSettings, SETTING_VARIABLES } from '../../lib/config.ts';
import { createDeps, type DepsOptions } from '../../lib/deps.ts';
import type { AwsClientConfig } from '../../lib/secret.ts';
import { createDynamoStore } from '../../lib/store.ts';
import { deployedRoutes, ROUTES, type RouteKey } from '../../lib/routes.ts';
import { gatewayEvent, type GatewayOrigin } from '../../infra/local/gateway-event.ts';
import { ensureTable, startEmbeddedStore, type EmbeddedStore } from '../../infra/local/embedded-store.ts';
import { handlerFactoryOf } from '../../lib/http/function-handler.ts';

export type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

export const TEST_APP_SECRET = 'handler-test-app-secret-handler-test-app-secret';
/** What Prosody would send in reservations_api_headers. */
export const TEST_RESERVATIONS_KEY = 'reservations-test-key-reservations-test-key-0123';
/** What Prosody's event sync component would send in api_headers. */
export const TEST_EVENTS_KEY = 'events-test-key-events-test-key-events-test-key-0123';

export const BASE_ENV: Record<string, string | undefined> = {
  // Every setting starts unset, so no test inherits another's configuration.
  ...Object.fromEntries(SETTING_VARIABLES.map((name) => [name, undefined])),
  JITSI_DOMAIN: 'meet.example.test',
  JITSI_APP_ID: 'test-app',
  JITSI_APP_SECRET: TEST_APP_SECRET,
  RESERVATIONS_API_KEY: TEST_RESERVATIONS_KEY,
  EVENTS_API_KEY: TEST_EVENTS_KEY,
  AUTH_MODE: 'none',
};

type Env = Record<string, string | undefined>;

/** An SDK client's settings from an environment map (see fake-secrets-manager's sdkEnvironment). */
export function awsConfigOf(env: Env, endpointVariable: string): AwsClientConfig | undefined {
  const { AWS_REGION: region, AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = env;
  const endpoint = env[endpointVariable];
  if (endpoint === undefined) return undefined;
  return { endpoint, region: region ?? 'eu-west-1', credentials: { accessKeyId: accessKeyId ?? 'test', secretAccessKey: secretAccessKey ?? 'test' } };
}

let embedded: Promise<EmbeddedStore> | undefined;
let tables = 0;

/**
 * The dependencies' SDK clients: Secrets Manager as the map says, the store an own table in
 * this worker's embedded dynalite (or AWS_ENDPOINT_URL_DYNAMODB's endpoint, for fault tests).
 */
export async function testDepsOptions(env: Env): Promise<DepsOptions> {
  const secretsManagerClient = awsConfigOf(env, 'AWS_ENDPOINT_URL_SECRETS_MANAGER');
  let storeClient = awsConfigOf(env, 'AWS_ENDPOINT_URL_DYNAMODB');
  if (storeClient === undefined) {
    embedded ??= startEmbeddedStore('memory');
    storeClient = (await embedded).client;
    await ensureTable(storeClient, env.APPOINTMENTS_TABLE ?? 'jitsi-appointments');
  }
  return { storeClient, openStore: createDynamoStore, ...(secretsManagerClient ? { secretsManagerClient } : {}) };
}

/** A table of its own for each set of handlers, so no test sees another's appointments. */
export const withOwnTable = (env: Env): Env => ({ ...env, APPOINTMENTS_TABLE: env.APPOINTMENTS_TABLE ?? `test-appointments-${process.pid}-${++tables}` });

export async function importFactory(route: { entry: string }) {
  return handlerFactoryOf((await import(pathToFileURL(resolve(route.entry)).href)) as Record<string, unknown>, route.entry);
}

/**
 * In Lambda the reservation key can only come from Secrets Manager: unless a test names one, a
 * Lambda-like environment gets the test key from an in-memory source instead of the variable.
 */
function reservationKeyFor(merged: Env, env: Env): { env: Env; options: DepsOptions } {
  const lambda = merged.AWS_LAMBDA_FUNCTION_NAME !== undefined && merged.AWS_SAM_LOCAL !== 'true';
  if (!lambda) return { env: merged, options: {} };
  const options: DepsOptions = {};
  let lambdaEnv = merged;
  if (env.RESERVATIONS_API_KEY === undefined && env.RESERVATIONS_KEY_ARN === undefined) {
    lambdaEnv = { ...lambdaEnv, RESERVATIONS_API_KEY: undefined };
    options.reservationKeyFetcher = async () => ({ value: TEST_RESERVATIONS_KEY });
  }
  if (env.EVENTS_API_KEY === undefined && env.EVENTS_KEY_ARN === undefined) {
    lambdaEnv = { ...lambdaEnv, EVENTS_API_KEY: undefined };
    options.eventsKeyFetcher = async () => ({ value: TEST_EVENTS_KEY });
  }
  return { env: lambdaEnv, options };
}

/** The real handlers; `options.clock` stands in for the system clock (the secret caches keep real time). */
export async function loadHandlers(env: Env = {}, options: Pick<DepsOptions, 'clock'> = {}) {
  const key = reservationKeyFor(withOwnTable({ ...BASE_ENV, ...env }), env);
  const settings = loadSettings(key.env);
  const deps = createDeps(settings, { ...(await testDepsOptions(key.env)), ...key.options, ...options });
  const keys = Object.keys(ROUTES).filter((key) => deployedRoutes.includes(ROUTES[key as RouteKey])) as RouteKey[];
  const built = await Promise.all(keys.map(async (key) => [key, (await importFactory(ROUTES[key]))(deps as never) as unknown as Handler] as const));
  const handlers = Object.fromEntries(built) as Record<Exclude<RouteKey, 'openApi'>, Handler>;
  return { ...handlers, settings, deps };
}

let counter = 0;
export const lambdaContext = (): Context => ({ awsRequestId: `req-${++counter}`, functionName: 'test', callbackWaitsForEmptyEventLoop: false }) as Context;

const TEST_ORIGIN: GatewayOrigin = {
  accountId: '123456789012',
  apiId: 'api',
  domainName: 'api.example.test',
  domainPrefix: 'api',
  sourceIp: '127.0.0.1',
  userAgent: 'vitest',
  protocol: 'HTTP/1.1',
};

export function apiEvent(
  path: string,
  body: unknown,
  options: { headers?: Record<string, string>; claims?: Record<string, unknown>; method?: string; rawBody?: string } = {},
): APIGatewayProxyEventV2 {
  const now = new Date();
  return gatewayEvent(TEST_ORIGIN, {
    routeKey: `POST ${path}`,
    method: options.method ?? 'POST',
    rawPath: path,
    headers: { 'content-type': 'application/json', ...options.headers },
    body: options.rawBody ?? JSON.stringify(body),
    requestId: `evt-${++counter}`,
    time: now.toUTCString(),
    timeEpoch: now.getTime(),
    claims: options.claims,
  });
}

export const json = (result: APIGatewayProxyStructuredResultV2): any => JSON.parse(result.body ?? 'null');
