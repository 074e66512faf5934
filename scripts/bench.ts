import { createHmac, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { BUNDLE_ENTRY_FILE, esbuildOptions } from '../infra/bundling.ts';
import { loadSettings, settingsEnvironment } from '../lib/config.ts';
import { createDeps } from '../lib/deps.ts';
import { createDynamoStore } from '../lib/store.ts';
import { LOCAL_STORE_CLIENT } from '../lib/store/table.ts';
import { createLogger } from '../lib/log.ts';
import { createGenerateTokenHandler } from '../functions/generate-token.ts';
import { createCallerApiHandler } from '../functions/lambda/caller-api.ts';
import { FUNCTIONS, ROUTES, routesDeployedWith, type FunctionDefinition, type RouteDefinition } from '../lib/routes.ts';
import { DEFAULT_MODERATOR_FEATURES, DEFAULT_PARTICIPANT_FEATURES, featureSet } from '../lib/features.ts';
import { buildJitsiClaims, createSigningKey, signJitsiToken, tokenTimesFrom, verifyJitsiToken, type JitsiClaims } from '../lib/token.ts';
import { ensureTable, startEmbeddedStore } from '../infra/local/embedded-store.ts';
import { startFakeDynamoDb } from '../test/helpers/fake-dynamodb.ts';
import { sdkEnvironment, startFakeSecretsManager, TEST_SECRET_ARN } from '../test/helpers/fake-secrets-manager.ts';
import {
  event,
  EVENTS_KEY,
  runBenchChild,
  EVENTS_KEY_SECRET_ARN,
  fmt,
  occupantJoinedEvent,
  PROSODY_KEY,
  PROSODY_KEY_SECRET_ARN,
  reservationEvent,
} from './bench-events.ts';
import { PROJECT_ROOT } from './server-process.ts';

const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 21);
// The token routes (the ones a patient's browser waits on), each answered by the deployed
// caller-api bundle; the appointment, join-link and reservation routes are counted in store
// calls instead. Every function's bundle is sized, and the public keys one (no store) started cold.
const routes: readonly RouteDefinition[] = [ROUTES.generateToken, ROUTES.createRoom, ROUTES.validateToken, ROUTES.refreshToken];
const CALLER_API: FunctionDefinition = FUNCTIONS.callerApi;
const functions: readonly FunctionDefinition[] = Object.values(FUNCTIONS);
const SECRET = randomBytes(48).toString('base64url');
const OUT = join(PROJECT_ROOT, '.bench');

interface Row {
  figure: string;
  value: string;
  floor: string;
  ratio: string;
  target: string;
  met: boolean | undefined;
}
const rows: Row[] = [];
function row(figure: string, value: string, floor: string, ratio: number | undefined, target: string, met: boolean | undefined): void {
  rows.push({ figure, value, floor, ratio: ratio === undefined ? '' : `${ratio.toFixed(2)}×`, target, met });
  process.stderr.write(`  ${figure}: ${value}${floor ? ` (floor ${floor})` : ''}\n`);
}

/** Operations per second of fn after a warm-up: the median of five 600 ms rounds, so one GC pause or a busy neighbour does not decide. */
async function opsPerSecond(fn: () => unknown | Promise<unknown>, roundMs = 600): Promise<number> {
  const run = async (ms: number) => {
    let count = 0;
    const end = performance.now() + ms;
    while (performance.now() < end) {
      for (let i = 0; i < 64; i++) await fn();
      count += 64;
    }
    return count;
  };
  await run(300);
  const rounds: number[] = [];
  for (let i = 0; i < 5; i++) rounds.push((await run(roundMs)) / (roundMs / 1000));
  return rounds.sort((a, b) => a - b)[2]!;
}

/** The floor: an HS256 token of the same claims with nothing but node:crypto. */
const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
function rawSign(claims: JitsiClaims, key: KeyObject): string {
  const input = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
}
function rawVerify(token: string, key: KeyObject, now: number): boolean {
  const dot = token.lastIndexOf('.');
  const expected = createHmac('sha256', key).update(token.slice(0, dot)).digest();
  const given = Buffer.from(token.slice(dot + 1), 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
  const header = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString());
  const claims = JSON.parse(Buffer.from(token.slice(token.indexOf('.') + 1, dot), 'base64url').toString());
  return (
    header.alg === 'HS256' &&
    header.typ === 'JWT' &&
    claims.iss === 'bench-app' &&
    claims.aud === 'bench-app' &&
    claims.sub === 'meet.example.com' &&
    typeof claims.exp === 'number' &&
    now < claims.exp &&
    now >= claims.nbf
  );
}

const { generateToken, createRoom, validateToken, refreshToken } = ROUTES;
const bodies: Record<string, unknown> = {
  [generateToken.name]: { roomName: 'bench-room', userName: 'Bench Person', userId: 'bench-user', isModerator: true, expiresIn: 3600 },
  [createRoom.name]: { appointmentId: 'appt-1', therapistId: 't-1', clientId: 'c-1', scheduledStartTime: new Date(Date.now() + 3_600_000).toISOString() },
};
/** Routes whose body is a token minted by generate-token first. */
const TAKES_A_TOKEN: readonly RouteDefinition[] = [validateToken, refreshToken];
/** The appointment path of generate-token: the client of the appointment create-room registers. */
const MEMBER_TOKEN = { appointmentId: 'appt-1', userId: 'c-1', userName: 'Bench Client' };
const TABLE = 'bench-appointments';
async function main(): Promise<void> {
  process.stderr.write(`bench: node ${process.version}, ${cpus().length} × ${cpus()[0]?.model}, ${Math.round(totalmem() / 2 ** 30)} GiB\n`);
  const fake = await startFakeSecretsManager();
  fake.secrets.set(TEST_SECRET_ARN, SECRET);
  // The embedded store behind a pass-through endpoint that counts every store call.
  const store = await startEmbeddedStore('memory');
  await ensureTable(store.client, TABLE);
  const storeCalls = await startFakeDynamoDb(store.client.endpoint);
  const lambdaEnv = {
    ...sdkEnvironment(fake.endpoint),
    AWS_LAMBDA_FUNCTION_NAME: 'bench',
    // The floor bundle reads only this (it must not load our settings module).
    BENCH_SECRET_ID: TEST_SECRET_ARN,
    BENCH_TABLE: TABLE,
    AWS_ENDPOINT_URL_DYNAMODB: storeCalls.endpoint,
    ...settingsEnvironment({
      secretArn: TEST_SECRET_ARN,
      reservationsKeyArn: PROSODY_KEY_SECRET_ARN,
      eventsKeyArn: EVENTS_KEY_SECRET_ARN,
      appId: 'bench-app',
      jitsiDomain: 'meet.example.com',
      authMode: 'none',
      appointmentsTable: TABLE,
    }),
  };
  fake.secrets.set(PROSODY_KEY_SECRET_ARN, PROSODY_KEY);
  fake.secrets.set(EVENTS_KEY_SECRET_ARN, EVENTS_KEY);

  // 1. sign and verify against the node:crypto floor
  const key = createSigningKey(SECRET);
  const now = Math.floor(Date.now() / 1000);
  const claims = buildJitsiClaims(
    { room: 'bench-room', user: { id: 'u', name: 'Bench Person', email: 'bench@example.com' }, moderator: true, ...tokenTimesFrom(now, 3600) },
    {
      appId: 'bench-app',
      audience: 'bench-app',
      sub: 'meet.example.com',
      group: undefined,
      moderatorFeatures: featureSet(DEFAULT_MODERATOR_FEATURES),
      participantFeatures: featureSet(DEFAULT_PARTICIPANT_FEATURES),
      // The largest token we may issue: with the email in it.
      tokenEmail: 'all',
    },
  );
  const token = signJitsiToken(claims, key);
  const expectations = { appId: 'bench-app', audience: 'bench-app', sub: 'meet.example.com', maxLifetimeSeconds: 86_430 };
  if (!rawVerify(token, key, now) || !verifyJitsiToken(rawSign(claims, key), [key], expectations, now).valid)
    throw new Error('bench: the floor and the library disagree');
  const floorSign = await opsPerSecond(() => rawSign(claims, key));
  const sign = await opsPerSecond(() => signJitsiToken(claims, key));
  row('sign (lib/token) ops/s', fmt(sign), fmt(floorSign), sign / floorSign, '≥ 0.50×', sign / floorSign >= 0.5);
  const floorVerify = await opsPerSecond(() => rawVerify(token, key, now));
  const verify = await opsPerSecond(() => verifyJitsiToken(token, [key], expectations, now));
  row('verify (lib/token) ops/s', fmt(verify), fmt(floorVerify), verify / floorVerify, '≥ 0.50×', verify / floorVerify >= 0.5);

  // The bundles as deployed (SDK bundled) and with the SDK left to the runtime, plus the floor.
  rmSync(OUT, { recursive: true, force: true });
  const bundles: Record<string, string> = {};
  const loads: Record<string, { startup: string; onDemand: string }> = {};
  for (const variant of ['sdk-bundled', 'sdk-external'] as const) {
    const entries: Array<readonly [string, string]> = [
      ...functions.map((fn) => [fn.name, join(PROJECT_ROOT, fn.entry)] as const),
      ['minimal', join(PROJECT_ROOT, 'scripts/bench-minimal-entry.ts')] as const,
      ['minimal-store', join(PROJECT_ROOT, 'scripts/bench-minimal-store-entry.ts')] as const,
    ];
    // The layouts the simulation compares, built the same way (sdk-bundled only): a route alone
    // in its function, and every route in one.
    if (variant === 'sdk-bundled') entries.push(...layoutEntries());
    for (const [name, entry] of entries) {
      const outdir = join(OUT, variant, name);
      const result = await build({ ...esbuildOptions(entry, outdir, { bundleAwsSdk: variant === 'sdk-bundled' }), metafile: true });
      bundles[`${variant}/${name}`] = join(outdir, BUNDLE_ENTRY_FILE);
      if (variant === 'sdk-bundled' && functions.some((fn) => fn.name === name)) loads[name] = whatLoads(result.metafile);
    }
  }

  // 2. warm handlers in-process from the deployed bundles (secret cached), and 5. Secrets Manager calls while warm
  Object.assign(process.env, lambdaEnv);
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write; // the handlers' log lines are built, not printed
  const context = { awsRequestId: 'bench' };
  const handlers: Record<string, (event: unknown, context: unknown) => Promise<{ statusCode?: number }>> = {};
  // Every token route is the caller-api function's: one bundle, one secret cache. Its first
  // fetch finishes here, before any busy loop below holds the event loop (a starved fetch would
  // hit its deadline).
  const callerApi = (await import(bundles[`sdk-bundled/${CALLER_API.name}`]!)).handler;
  for (const route of routes) {
    handlers[route.name] = callerApi;
    if (TAKES_A_TOKEN.includes(route)) {
      bodies[route.name] = {
        token: JSON.parse(((await callerApi(event(generateToken, bodies[generateToken.name]), context)) as { body: string }).body).token,
      };
    }
    const first = await handlers[route.name]!(event(route, bodies[route.name]), context);
    if (first.statusCode !== 200) throw new Error(`bench: ${route.name} answered ${first.statusCode}`);
  }
  const callsAfterFirst = fake.calls.length;
  for (const route of routes) {
    const prepared = event(route, bodies[route.name]);
    const warm = await opsPerSecond(() => handlers[route.name]!(prepared, context));
    const target = route === generateToken ? '≥ 0.25×' : '';
    process.stdout.write = write;
    row(
      `${route.name} warm invocations/s`,
      fmt(warm),
      `${fmt(floorSign)} signs/s`,
      warm / floorSign,
      target,
      route === generateToken ? warm / floorSign >= 0.25 : undefined,
    );
    process.stdout.write = (() => true) as typeof process.stdout.write;
  }
  const memberEvent = event(generateToken, MEMBER_TOKEN);
  const memberWarm = await opsPerSecond(() => handlers[generateToken.name]!(memberEvent, context));
  process.stdout.write = write;
  row(`${generateToken.name} (appointment member) warm invocations/s`, fmt(memberWarm), `${fmt(floorSign)} signs/s`, memberWarm / floorSign, '', undefined);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  const before = fake.calls.length;
  for (let i = 0; i < 1000; i++) await handlers[generateToken.name]!(event(generateToken, bodies[generateToken.name]), context);
  process.stdout.write = write;
  const warmCalls = fake.calls.length - before;
  row('GetSecretValue calls per 1000 warm invocations', String(warmCalls), '0', undefined, '0 after the first', warmCalls === 0 && callsAfterFirst === 1);

  // Prosody's function, warm: each call reserves a room nobody opened yet.
  const reservationsApi = (await import(bundles[`sdk-bundled/${FUNCTIONS.reservationsApi.name}`]!)).handler;
  let reservedRooms = 0;
  const firstReservation = await reservationsApi(reservationEvent(`bench-room-warm-${++reservedRooms}`), context);
  if (firstReservation.statusCode !== 200) throw new Error(`bench: ${ROUTES.reservationCreate.name} answered ${firstReservation.statusCode}`);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  const reservationsWarm = await opsPerSecond(() => reservationsApi(reservationEvent(`bench-room-warm-${++reservedRooms}`), context));
  process.stdout.write = write;
  row(
    `${ROUTES.reservationCreate.name} warm invocations/s (${FUNCTIONS.reservationsApi.name}, one conditional write each)`,
    fmt(reservationsWarm),
    '',
    undefined,
    '',
    undefined,
  );
  // Prosody's events, warm: an occupant joining an ad-hoc room (counted: one update each).
  let nicks = 0;
  const firstEvent = await reservationsApi(occupantJoinedEvent(`n${++nicks}`), context);
  if (firstEvent.statusCode !== 200) throw new Error(`bench: ${ROUTES.occupantJoinedEvent.name} answered ${firstEvent.statusCode}`);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  const eventsWarm = await opsPerSecond(() => reservationsApi(occupantJoinedEvent(`n${++nicks}`), context));
  process.stdout.write = write;
  row(
    `${ROUTES.occupantJoinedEvent.name} warm invocations/s (${FUNCTIONS.reservationsApi.name}, ad-hoc room: one update each)`,
    fmt(eventsWarm),
    '',
    undefined,
    '',
    undefined,
  );

  // Telling the platform adds no store call: the member token with a publisher that counts what it is given.
  const published: unknown[] = [];
  const publishingDeps = createDeps(loadSettings(lambdaEnv as never), {
    logger: createLogger(() => {}),
    openStore: createDynamoStore,
    storeClient: { ...LOCAL_STORE_CLIENT, endpoint: storeCalls.endpoint },
    publisher: { publish: async (events) => published.push(...events) > 0 },
  });
  const publishing = createGenerateTokenHandler(publishingDeps) as unknown as (event: unknown, context: unknown) => Promise<{ statusCode: number }>;
  await publishing(event(generateToken, { ...MEMBER_TOKEN, expiresIn: 600 }), context);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  const publishingBefore = storeCalls.calls.length;
  published.length = 0;
  for (let i = 0; i < 100; i++) await publishing(event(generateToken, { ...MEMBER_TOKEN, expiresIn: 601 + i }), context);
  process.stdout.write = write;
  row(
    `store calls per request: ${generateToken.name} (appointment member), publishing its token.issued`,
    `${(storeCalls.calls.length - publishingBefore) / 100} (${[...new Set(storeCalls.calls.slice(publishingBefore))].join(', ')}); ${published.length / 100} event each`,
    '',
    undefined,
    'the same as without publishing',
    undefined,
  );

  // What dispatching on routeKey costs: the same generate-token handler (from source, one set of
  // dependencies), called directly and through caller-api, in alternating rounds.
  const sourceDeps = createDeps(loadSettings(lambdaEnv as never), { logger: createLogger(() => {}) });
  const direct = createGenerateTokenHandler(sourceDeps) as unknown as (event: unknown, context: unknown) => Promise<unknown>;
  const dispatched = createCallerApiHandler(sourceDeps) as unknown as (event: unknown, context: unknown) => Promise<unknown>;
  const adHoc = event(generateToken, bodies[generateToken.name]);
  await direct(adHoc, context); // the first call waits for the secret
  const rates = { direct: [] as number[], dispatched: [] as number[] };
  for (let round = 0; round < 3; round++) {
    rates.direct.push(await opsPerSecond(() => direct(adHoc, context)));
    rates.dispatched.push(await opsPerSecond(() => dispatched(adHoc, context)));
  }
  const best = (values: number[]) => Math.max(...values);
  row(
    `${generateToken.name} warm through ${CALLER_API.name} dispatch (source, in-process) ops/s`,
    fmt(best(rates.dispatched)),
    `${fmt(best(rates.direct))} direct`,
    best(rates.dispatched) / best(rates.direct),
    '',
    undefined,
  );

  // Store calls per request, counted at the store's endpoint (warm: room pointers cached).
  // Each request a new one (another lifetime): the same request again within two minutes is a retry, answered from its record.
  const scenarios: Array<[string, RouteDefinition, (i: number) => unknown, string]> = [
    [`${generateToken.name} (ad-hoc room)`, generateToken, () => bodies[generateToken.name], '0'],
    [
      `${generateToken.name} (appointment member)`,
      generateToken,
      (i) => ({ ...MEMBER_TOKEN, expiresIn: 900 + i }),
      '1 query + 1 conditional write (the token and its record)',
    ],
    [`${generateToken.name} (appointment member, the same request again: a retry)`, generateToken, () => MEMBER_TOKEN, '1 query'],
    [`${createRoom.name} (registered again)`, createRoom, () => bodies[createRoom.name], '1 query + the outcome entry (the retry answered from its record)'],
    [`${validateToken.name} (ad-hoc token)`, validateToken, () => bodies[validateToken.name], '0'],
    [`${refreshToken.name} (ad-hoc token)`, refreshToken, () => bodies[refreshToken.name], '0'],
  ];
  for (const [label, route, body, target] of scenarios) {
    process.stdout.write = (() => true) as typeof process.stdout.write;
    const callsBefore = storeCalls.calls.length;
    for (let i = 0; i < 100; i++) await handlers[route.name]!(event(route, body(i)), context);
    const perRequest = (storeCalls.calls.length - callsBefore) / 100;
    const kinds = [...new Set(storeCalls.calls.slice(callsBefore))].join(', ');
    process.stdout.write = write;
    row(`store calls per request: ${label}`, `${perRequest}${kinds ? ` (${kinds})` : ''}`, '', undefined, target, undefined);
  }
  const firstRegistration = storeCalls.calls.length;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  await handlers[createRoom.name]!(event(createRoom, { ...(bodies[createRoom.name] as object), appointmentId: 'appt-first' }), context);
  process.stdout.write = write;
  row(
    `store calls: ${createRoom.name} (first registration)`,
    `${storeCalls.calls.length - firstRegistration} (${storeCalls.calls.slice(firstRegistration).join(', ')})`,
    '',
    undefined,
    '1 query + 2 conditional writes (room pointer; appointment, tokens and records) + the outcome entry',
    undefined,
  );

  // 3, 4, 6. bundles: size, cold start against the minimal bundle, peak RSS
  for (const fn of functions) {
    const code = readFileSync(bundles[`sdk-bundled/${fn.name}`]!);
    const chunks = join(dirname(bundles[`sdk-bundled/${fn.name}`]!), 'chunks');
    const chunkFiles = existsSync(chunks) ? readdirSync(chunks).filter((file) => file.endsWith('.mjs')) : [];
    const chunkBytes = chunkFiles.reduce((sum, file) => sum + statSync(join(chunks, file)).size, 0);
    row(
      `${fn.name} bundle size (SDK bundled)`,
      `${BUNDLE_ENTRY_FILE} ${fmt(code.length / 1024)} KiB raw, ${fmt(gzipSync(code).length / 1024)} KiB gzip; ${chunkFiles.length} chunks loaded on demand ${fmt(chunkBytes / 1024)} KiB`,
      '',
      undefined,
      '',
      undefined,
    );
    row(`${fn.name} start-up file holds (metafile, KiB)`, loads[fn.name]!.startup, '', undefined, '', undefined);
    row(`${fn.name} chunks hold, loaded on first use (metafile, KiB)`, loads[fn.name]!.onDemand, '', undefined, '', undefined);
  }
  const eventFiles: Record<string, string> = {};
  for (const route of routes) {
    const file = join(OUT, `${route.name}.event.json`);
    writeFileSync(file, JSON.stringify(event(route, bodies[route.name])));
    eventFiles[route.name] = file;
  }
  // The public keys function in HS256 mode: it loads and answers 404 (no keys) without waiting for the secret.
  const keysEvent = join(OUT, `${ROUTES.jitsiKeys.name}.event.json`);
  writeFileSync(keysEvent, JSON.stringify({ ...event(ROUTES.jitsiKeys, undefined), pathParameters: { keyFile: 'none.pem' } }));
  // Fresh processes in turn (floor, then each function), so drift on the machine hits all alike.
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  for (const variant of ['sdk-bundled', 'sdk-external'] as const) {
    const samples: Record<string, Array<{ ms: number; rssKb: number }>> = {};
    // Each token route is a cold caller-api process answering that route's event first; each
    // cold reservation opens a room of its own (a second would get Prosody's 409).
    const reservationFile = (run: number) => {
      const file = join(OUT, `reservation-${variant}-${run}.event.json`);
      writeFileSync(file, JSON.stringify(reservationEvent(`bench-room-cold-${variant}-${run}`)));
      return file;
    };
    const occupantFile = (run: number) => {
      const file = join(OUT, `occupant-${variant}-${run}.event.json`);
      writeFileSync(file, JSON.stringify(occupantJoinedEvent(`cold-${variant}-${run}`)));
      return file;
    };
    const runs: Array<{ name: string; bundle: string; eventFile: (run: number) => string; status: number }> = [
      { name: 'minimal', bundle: 'minimal', eventFile: () => eventFiles[generateToken.name]!, status: 200 },
      { name: 'minimal-store', bundle: 'minimal-store', eventFile: () => eventFiles[generateToken.name]!, status: 200 },
      ...routes.map((route) => ({ name: route.name, bundle: CALLER_API.name, eventFile: () => eventFiles[route.name]!, status: 200 })),
      { name: FUNCTIONS.publicKeys.name, bundle: FUNCTIONS.publicKeys.name, eventFile: () => keysEvent, status: 404 },
      { name: FUNCTIONS.reservationsApi.name, bundle: FUNCTIONS.reservationsApi.name, eventFile: reservationFile, status: 200 },
      { name: ROUTES.occupantJoinedEvent.name, bundle: FUNCTIONS.reservationsApi.name, eventFile: occupantFile, status: 200 },
      ...(variant === 'sdk-bundled' ? LAYOUT_RUNS.map(([name, route]) => ({ name, bundle: name, eventFile: () => eventFiles[route.name]!, status: 200 })) : []),
    ];
    for (let i = 0; i < COLD_RUNS; i++) {
      for (const { name, bundle, eventFile, status } of runs) {
        samples[name] ??= [];
        samples[name].push(await coldStart(bundles[`${variant}/${bundle}`]!, eventFile(i), lambdaEnv, status));
      }
    }
    const medianMs = (name: string) => median(samples[name]!.map((sample) => sample.ms));
    const floors = { minimal: medianMs('minimal'), 'minimal-store': medianMs('minimal-store') };
    const floorRss = Math.max(...samples.minimal!.map((sample) => sample.rssKb)) / 1024;
    for (const route of routes) {
      // caller-api bundles both SDK clients: each route is held to the floor that loads both and
      // makes one call each. The Secrets-Manager-only floor is shown beside it, for history.
      const measured = medianMs(route.name);
      for (const floorName of ['minimal-store', 'minimal'] as const) {
        const floor = floors[floorName];
        const ratio = measured / floor;
        const held = variant === 'sdk-bundled' && floorName === 'minimal-store';
        row(
          `${route.name} cold start, median of ${COLD_RUNS} (${variant})`,
          `${fmt(measured)} ms`,
          `${fmt(floor)} ms (${floorName})`,
          ratio,
          held ? '≤ 1.25×' : '',
          held ? ratio <= 1.25 : undefined,
        );
      }
      const peakRss = Math.max(...samples[route.name]!.map((sample) => sample.rssKb)) / 1024;
      if (variant === 'sdk-bundled')
        row(`${route.name} peak RSS of a cold process`, `${fmt(peakRss)} MB`, `${fmt(floorRss)} MB`, undefined, '< 100 MB', peakRss < 100);
    }
    // The layouts, and Prosody's function (two secrets and one conditional write): the two-client floor.
    const storeFloorRow = (figure: string, name: string) =>
      row(figure, `${fmt(medianMs(name))} ms`, `${fmt(floors['minimal-store'])} ms (minimal-store)`, medianMs(name) / floors['minimal-store'], '', undefined);
    if (variant === 'sdk-bundled') for (const [name] of LAYOUT_RUNS) storeFloorRow(`${name} cold start, median of ${COLD_RUNS}`, name);
    storeFloorRow(
      `${FUNCTIONS.reservationsApi.name} cold start (${ROUTES.reservationCreate.name}), median of ${COLD_RUNS} (${variant})`,
      FUNCTIONS.reservationsApi.name,
    );
    storeFloorRow(
      `${FUNCTIONS.reservationsApi.name} cold start (${ROUTES.occupantJoinedEvent.name}), median of ${COLD_RUNS} (${variant})`,
      ROUTES.occupantJoinedEvent.name,
    );
    // No route of public-keys touches the store: its floor is the Secrets-Manager-only one.
    const keys = medianMs(FUNCTIONS.publicKeys.name);
    row(
      `${FUNCTIONS.publicKeys.name} cold start (HS256: 404), median of ${COLD_RUNS} (${variant})`,
      `${fmt(keys)} ms`,
      `${fmt(floors.minimal)} ms (minimal)`,
      keys / floors.minimal,
      '',
      undefined,
    );
  }
  await fake.close();
  await storeCalls.close();
  await store.close();

  console.log(`\njitsi-token-api bench — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model}, ${new Date().toISOString().slice(0, 10)}\n`);
  console.log('| figure | measured | floor | ratio | target | met |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows)
    console.log(`| ${r.figure} | ${r.value} | ${r.floor} | ${r.ratio} | ${r.target} | ${r.met === undefined ? '' : r.met ? 'yes' : '**no**'} |`);
  process.exit(0);
}

/** Cold starts of the other layouts (`npm run simulate`'s inputs): bundle name and the route it answers first. */
const LAYOUT_RUNS: ReadonlyArray<readonly [string, RouteDefinition]> = [
  [`layout per route: ${ROUTES.generateToken.name} alone`, ROUTES.generateToken],
  [`layout per route: ${ROUTES.createRoom.name} alone`, ROUTES.createRoom],
  [`layout single: every route, ${ROUTES.generateToken.name} first`, ROUTES.generateToken],
  [`layout single: every route, ${ROUTES.createRoom.name} first`, ROUTES.createRoom],
];

/** Entry files for those layouts, written into .bench/entries (ignored by git). */
function layoutEntries(): Array<readonly [string, string]> {
  const dir = join(OUT, 'entries');
  mkdirSync(dir, { recursive: true });
  const write = (file: string, source: string) => {
    writeFileSync(join(dir, file), source);
    return join(dir, file);
  };
  // Built by the deployed functions' own dispatcher, from the same route modules.
  const layout = (file: string, layoutRoutes: readonly RouteDefinition[]) =>
    write(
      file,
      "import { deployedHandler } from '../../lib/deps.ts';\n" +
        "import { createFunctionHandler, handlerFactoryOf } from '../../lib/http/function-handler.ts';\n" +
        "import { routes } from '../../lib/routes.ts';\n" +
        "import { createDynamoStore } from '../../lib/store.ts';\n" +
        layoutRoutes.map((route, index) => `import * as route${index} from '../../${route.entry}';\n`).join('') +
        `const names = ${JSON.stringify(layoutRoutes.map((route) => route.name))};\n` +
        `const modules = [${layoutRoutes.map((_, index) => `route${index}`).join(', ')}];\n` +
        `const fn = { name: ${JSON.stringify(file)}, entry: ${JSON.stringify(`.bench/entries/${file}`)}, summary: 'a layout the bench compares' };\n` +
        'const factories = Object.fromEntries(names.map((name, index) => [name, handlerFactoryOf(modules[index], name)]));\n' +
        'const layoutRoutes = routes.filter((route) => names.includes(route.name));\n' +
        'export const handler = await deployedHandler(createFunctionHandler(fn, factories, layoutRoutes), { fn, routes: layoutRoutes, openStore: createDynamoStore });\n',
    );
  const alone = (route: RouteDefinition) => layout(`${route.name}.ts`, [route]);
  // Every deployed route in one function.
  const single = layout('single.ts', routesDeployedWith('hs256'));
  return [
    [LAYOUT_RUNS[0]![0], alone(ROUTES.generateToken)],
    [LAYOUT_RUNS[1]![0], alone(ROUTES.createRoom)],
    [LAYOUT_RUNS[2]![0], single],
    [LAYOUT_RUNS[3]![0], single],
  ];
}

/** Which packages a function's start-up file and its chunks hold (bytes in the output, by package; our own code as `our code`). */
function whatLoads(metafile: Metafile): { startup: string; onDemand: string } {
  const byPackage = (outputs: Array<Metafile['outputs'][string]>) => {
    const sizes = new Map<string, number>();
    for (const output of outputs) {
      for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
        const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? 'our code';
        sizes.set(name, (sizes.get(name) ?? 0) + bytesInOutput);
      }
    }
    const sorted = [...sizes].sort((a, b) => b[1] - a[1]);
    const shown = sorted.slice(0, 6).map(([name, bytes]) => `${name} ${fmt(bytes / 1024)}`);
    const rest = sorted.slice(6).reduce((sum, [, bytes]) => sum + bytes, 0);
    return [...shown, ...(rest > 0 ? [`${sorted.length - 6} more ${fmt(rest / 1024)}`] : [])].join(', ');
  };
  const outputs = Object.entries(metafile.outputs).filter(([path]) => path.endsWith('.mjs'));
  return {
    startup: byPackage(outputs.filter(([path]) => path.endsWith(`/${BUNDLE_ENTRY_FILE}`)).map(([, output]) => output)),
    onDemand: byPackage(outputs.filter(([path]) => !path.endsWith(`/${BUNDLE_ENTRY_FILE}`)).map(([, output]) => output)),
  };
}

/** One fresh Node process: import the bundle, answer the first event; time and peak RSS. */
function coldStart(bundle: string, eventFile: string, env: Record<string, string>, status = 200): Promise<{ ms: number; rssKb: number }> {
  const script = `
    const started = performance.now();
    const { handler } = await import(${JSON.stringify(bundle)});
    const result = await handler(JSON.parse((await import('node:fs')).readFileSync(${JSON.stringify(eventFile)}, 'utf8')), { awsRequestId: 'cold' });
    const ms = performance.now() - started;
    if (result.statusCode !== ${status}) throw new Error('status ' + result.statusCode);
    process.stdout.write('BENCH ' + JSON.stringify({ ms, rssKb: process.resourceUsage().maxRSS }) + '\\n');`;
  return runBenchChild(process.execPath, script, [bundle], env, 'BENCH');
}

mkdirSync(OUT, { recursive: true });
await main();
