// What a handler is built from: settings, logger, signing keys, the appointment store and clock. A Lambda function
// builds them once from its environment (deployedHandler); tests and the local server hand their own.
import { ConfigError, detectRuntime, loadSettings, SETTINGS, type Settings } from './config.ts';
import { createKeyring, systemClock, type Clock, type Keyring } from './keyring.ts';
import { createLogger, type Logger } from './log.ts';
import {
  createSecretCache,
  createSecretsManagerFetcher,
  fetcherFor,
  parseApiKey,
  type AwsClientConfig,
  type SecretCache,
  type SecretFetcher,
} from './secret.ts';
import { createEventBridgePublisher, NO_PUBLISHER, type Publisher } from './platform-events.ts';
import { readsAppSecret, readsEventsKey, readsReservationKey, routesOf, storeActionsOf, type FunctionDefinition, type RouteDefinition } from './routes.ts';
import type { AppointmentStore, StoreOptions } from './store.ts';
import { LOCAL_STORE_CLIENT } from './store/table.ts';
import { keyFileName } from './token.ts';

export interface Deps {
  settings: Settings;
  logger: Logger;
  keyring: Keyring;
  store: AppointmentStore;
  /** The bearer key Prosody's reservation module presents (fetched on first use). */
  reservationKey: SecretCache<Buffer>;
  /** The bearer key Prosody's event sync component presents (fetched on first use). */
  eventsKey: SecretCache<Buffer>;
  clock: Clock;
  /** Tells the platform what was decided: EventBridge in AWS, a webhook locally, or nothing. */
  publisher: Publisher;
  /** The webhook signing secret (`whsec_…`), where this function delivers the bus's events as webhooks. */
  webhookSecret?: SecretCache<string>;
}

export interface DepsOptions {
  logger?: Logger;
  clock?: Clock;
  /** Where the current secret comes from, instead of what the settings name. */
  secretFetcher?: SecretFetcher;
  /** Where the reservation key comes from, instead of what the settings name. */
  reservationKeyFetcher?: SecretFetcher;
  /** Where the event sync key comes from, instead of what the settings name. */
  eventsKeyFetcher?: SecretFetcher;
  /** Where platform events go, instead of the bus the settings name (the local server's webhook). */
  publisher?: Publisher;
  /** For the EventBridge client (tests: a loopback endpoint). */
  eventBridgeClient?: AwsClientConfig;
  /** For the Secrets Manager client (tests: a loopback endpoint and fake credentials). */
  secretsManagerClient?: AwsClientConfig;
  /** For the DynamoDB client (the embedded store's endpoint locally and in tests). */
  storeClient?: AwsClientConfig;
  /**
   * Opens the appointment store (lib/store's createDynamoStore). Passed in, not imported here, so
   * the bundle of a function none of whose routes touches the store has no DynamoDB client in it.
   */
  openStore?: (options: StoreOptions) => AppointmentStore;
  /**
   * Whether these handlers may use the app secret (default: yes). A function none of whose routes
   * signs is granted no read on it: it never fetches it, and a route that tried would get a 503.
   */
  readsAppSecret?: boolean;
}

/** The store of a function built without one: any call is a bug (a route whose row names no store action). */
const refuseCall = (name: string) => () => Promise.reject(new TypeError(`this function has no appointment store (store.${name} called)`));
const NO_STORE: AppointmentStore = new Proxy({} as AppointmentStore, {
  get: (_, kind) =>
    kind === 'warmUp' || kind === 'connect' ? refuseCall(kind) : new Proxy({}, { get: (__, operation) => refuseCall(`${String(kind)}.${String(operation)}`) }),
});

/** Builds the dependencies and starts the first secret fetch right away (the Lambda init phase). */
export function createDeps(settings: Settings, options: DepsOptions = {}): Deps {
  const logger = options.logger ?? createLogger(undefined, undefined, settings.logLevel);
  const clock = options.clock ?? systemClock;
  for (const warning of settings.warnings) logger.warn(warning);
  const readsSecret = options.readsAppSecret ?? true;
  const source = readsSecret ? settings.secretSource : ({ kind: 'none' } as const);
  if (readsSecret && source.kind === 'none' && settings.runtime === 'lambda') {
    throw new ConfigError(
      SETTINGS.secretArn.variable,
      'is required in Lambda for a function that signs (the Secrets Manager secret holding the Jitsi app_secret)',
    );
  }
  // Under sam local the table may live in a store on the developer's machine (APPOINTMENTS_ENDPOINT), which checks no credentials.
  const storeClient =
    options.storeClient ?? (settings.appointmentsEndpoint === undefined ? undefined : { ...LOCAL_STORE_CLIENT, endpoint: settings.appointmentsEndpoint });
  const store =
    options.openStore?.({
      tableName: settings.appointmentsTable,
      retentionDays: settings.auditRetentionDays,
      ...(storeClient ? { client: storeClient } : {}),
    }) ?? NO_STORE;
  const keyring = createKeyring(
    settings,
    {
      current: readsSecret ? (options.secretFetcher ?? fetcherFor(source, options.secretsManagerClient)) : fetcherFor(source),
      previous: source.kind === 'secrets-manager' ? createSecretsManagerFetcher(source.secretId, 'AWSPREVIOUS', options.secretsManagerClient) : undefined,
      // RS256: the public-keys function serves what the signer published, never reading the private key.
      publish:
        settings.signing === 'rs256' && readsSecret && options.openStore !== undefined
          ? (secret, servedUntil) => store.publicKeys.publish(keyFileName(secret.kid!), { kid: secret.kid!, pem: secret.publicKeyPem!, servedUntil })
          : undefined,
    },
    logger,
    clock,
  );
  // A function that never signs never fetches the secret (it is granted no read on it).
  if (readsSecret && (source.kind !== 'none' || options.secretFetcher !== undefined)) keyring.prefetch();
  const keyCache = (fetcher: SecretFetcher, label: string) =>
    createSecretCache(fetcher, { refreshMs: settings.secretRefreshSeconds * 1000, staleMs: settings.secretStaleSeconds * 1000, logger, label }, parseApiKey);
  const reservationKey = keyCache(
    options.reservationKeyFetcher ?? fetcherFor(settings.reservationKeySource, options.secretsManagerClient),
    'the reservation API key',
  );
  const eventsKey = keyCache(options.eventsKeyFetcher ?? fetcherFor(settings.eventsKeySource, options.secretsManagerClient), 'the event sync API key');
  // The webhook signing key (Standard Webhooks): the base64 of the secret's value. Read by the function that delivers.
  const webhookSecret =
    settings.webhookSecretArn === undefined
      ? undefined
      : createSecretCache(
          fetcherFor({ kind: 'secrets-manager', secretId: settings.webhookSecretArn }, options.secretsManagerClient),
          { refreshMs: settings.secretRefreshSeconds * 1000, staleMs: settings.secretStaleSeconds * 1000, logger, label: 'the webhook signing secret' },
          (value) => `whsec_${Buffer.from(value.trim(), 'utf8').toString('base64')}`,
        );
  const publisher =
    options.publisher ??
    (settings.eventBusName === undefined
      ? NO_PUBLISHER
      : createEventBridgePublisher({
          busName: settings.eventBusName,
          logger,
          ...(options.eventBridgeClient ? { client: options.eventBridgeClient } : {}),
        }));
  return { settings, logger, keyring, store, reservationKey, eventsKey, clock, publisher, ...(webhookSecret ? { webhookSecret } : {}) };
}

/** What a function's routes will need, so its init phase can have it ready (routes.ts says which). */
export interface FirstRequestNeeds {
  appSecret: boolean;
  reservationKey: boolean;
  eventsKey: boolean;
  /** The store, and whether its grant lets it open the connection with a read (GetItem). */
  store: 'none' | 'load' | 'connect';
}

export function firstRequestNeedsOf(fn: FunctionDefinition, routes: readonly RouteDefinition[], settings: Pick<Settings, 'endMeetingUrl'>): FirstRequestNeeds {
  const actions = storeActionsOf(routes);
  return {
    appSecret: readsAppSecret(fn, routes, { endsMeetings: settings.endMeetingUrl !== undefined }),
    reservationKey: readsReservationKey(routes),
    eventsKey: readsEventsKey(routes),
    store: actions.length === 0 ? 'none' : actions.includes('dynamodb:GetItem') ? 'connect' : 'load',
  };
}

/** Init may take 10 s in Lambda; what is not ready by then is left to the first request. */
export const INIT_BUDGET_MS = 4_000;

/**
 * Does the first request's work before the handler is exported: Lambda runs the init phase on a
 * full core and the handler at the memory's share of one (256 MB: 14.5 %), so work done here is
 * 7x cheaper in time. Fetches the secrets the routes use (RS256: publishes the public key), loads
 * the SDK clients and opens the store's connection. Never throws and never waits past
 * INIT_BUDGET_MS: a failure is logged where it happens, and the first request tries again.
 */
export async function prepareForFirstRequest(deps: Deps, needs: FirstRequestNeeds, budgetMs = INIT_BUDGET_MS): Promise<void> {
  const work = [
    needs.appSecret ? deps.keyring.current() : undefined,
    needs.reservationKey ? deps.reservationKey.get() : undefined,
    needs.eventsKey ? deps.eventsKey.get() : undefined,
    deps.webhookSecret?.get(),
    needs.store === 'connect' ? deps.store.connect() : needs.store === 'load' ? deps.store.warmUp() : undefined,
    deps.publisher.warmUp?.(),
  ].filter((promise) => promise !== undefined);
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<void>((resolvePromise) => {
    timer = setTimeout(resolvePromise, budgetMs);
  });
  await Promise.race([Promise.allSettled(work), budget]);
  clearTimeout(timer);
}

/** What a deployed function's entry says about itself: which function it is, and how it opens the store. */
export interface FunctionEntryOptions extends Pick<DepsOptions, 'openStore'> {
  fn: FunctionDefinition;
  /** Its routes, when not the table's rows that name it (the bench's layouts). */
  routes?: readonly RouteDefinition[];
}

let processFunction: { deps: Deps; needs: FirstRequestNeeds } | undefined;

/** One set per process, from the environment: what a deployed function is built with, and what its routes need. */
function functionDeps({ fn, routes = routesOf(fn), ...options }: FunctionEntryOptions): { deps: Deps; needs: FirstRequestNeeds } {
  if (processFunction === undefined) {
    const settings = loadSettings();
    const needs = firstRequestNeedsOf(fn, routes, settings);
    processFunction = { deps: createDeps(settings, { ...options, readsAppSecret: needs.appSecret }), needs };
  }
  return processFunction;
}

type LambdaHandler<E, C, R> = (event: E, context: C) => Promise<R>;

/**
 * A function module's `handler` (its entry awaits this at the top level): in Lambda (and sam
 * local) built at import, settings checked and the first request's work done during the init
 * phase (prepareForFirstRequest); elsewhere (the local server and tests import modules for their
 * factories) only when first called.
 */
export async function deployedHandler<E, C, R>(
  factory: (deps: Deps) => LambdaHandler<E, C, R>,
  options: FunctionEntryOptions,
): Promise<LambdaHandler<E, C, R>> {
  if (detectRuntime() !== 'local') {
    const { deps, needs } = functionDeps(options);
    const handler = factory(deps);
    await prepareForFirstRequest(deps, needs);
    return handler;
  }
  let built: LambdaHandler<E, C, R> | undefined;
  return (event, context) => {
    built ??= factory(functionDeps(options).deps);
    return built(event, context);
  };
}
