// What a deployed bundle holds once its init phase is over (Lambda runs init on a full core and
// the handler at the memory's share of one, docs/PERFORMANCE.md): each function's first request
// must import no module and make no secret call. The bundle runs in a fresh Node process; once
// its import has finished, the process moves its chunks folder away (any later import() of a
// chunk would fail) and tells this test, which notes the Secrets Manager calls so far and lets
// it answer its function's heaviest request. Not timed: it checks what happens, not how fast.
import { spawn } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_ENTRY_FILE, bundleFunction } from '../../infra/bundling.ts';
import { ensureTable, startEmbeddedStore, type EmbeddedStore } from '../../infra/local/embedded-store.ts';
import { settingsEnvironment } from '../../lib/config.ts';
import { FUNCTIONS, ROUTES, type FunctionDefinition, type RouteDefinition } from '../../lib/routes.ts';
import { sdkEnvironment, startFakeSecretsManager, TEST_SECRET_ARN, type FakeSecretsManager } from '../helpers/fake-secrets-manager.ts';
import { recordLogLines } from '../helpers/log-record.ts';
import { testTempDir } from '../helpers/temp.ts';
import { committedEvent } from '../helpers/deployed-bundles.ts';

const TABLE = 'init-phase-appointments';
const RESERVATIONS_KEY_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:init-reservations-key-AbCdEf';
const EVENTS_KEY_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:init-events-key-AbCdEf';
const committed = JSON.parse(readFileSync('events/env.json', 'utf8')).Parameters as Record<string, string>;

let fake: FakeSecretsManager;
let store: EmbeddedStore;
const bundles = new Map<FunctionDefinition, string>();

beforeAll(async () => {
  store = await startEmbeddedStore('memory');
  await ensureTable(store.client, TABLE);
  fake = await startFakeSecretsManager();
  fake.secrets.set(TEST_SECRET_ARN, 'init-phase-secret-init-phase-secret-0123456789');
  fake.secrets.set(RESERVATIONS_KEY_ARN, committed.RESERVATIONS_API_KEY!);
  fake.secrets.set(EVENTS_KEY_ARN, committed.EVENTS_API_KEY!);
  const outdir = testTempDir('init-phase-');
  for (const fn of Object.values(FUNCTIONS)) {
    bundleFunction(join(process.cwd(), fn.entry), join(outdir, fn.name), { bundleAwsSdk: true });
    bundles.set(fn, join(outdir, fn.name));
  }
}, 120_000);
afterAll(async () => {
  await fake.close();
  await store.close();
});

/** Imports the bundle, moves its chunks away, says INIT, waits for GO, answers the event (committedEvent's, times moved to now), prints RESULT. */
const CHILD = `
import { renameSync } from 'node:fs';
import { once } from 'node:events';
const [dir, eventJson] = process.argv.slice(1);
const { handler } = await import(dir + '/${BUNDLE_ENTRY_FILE}');
renameSync(dir + '/chunks', dir + '/chunks-moved-after-init');
process.stdout.write('INIT\\n');
await once(process.stdin, 'data');
const event = JSON.parse(eventJson);
const result = await handler(event, { awsRequestId: 'init-phase', functionName: 'f', getRemainingTimeInMillis: () => 10000 });
process.stdout.write('RESULT ' + JSON.stringify(result) + '\\n');
process.exit(0);
`;

/** Runs a fresh copy of the function's bundle with one committed event; the secret calls made before and after init. */
async function firstRequest(fn: FunctionDefinition, route: RouteDefinition, env: Record<string, string>) {
  const dir = testTempDir(`init-${fn.name}-`);
  cpSync(bundles.get(fn)!, dir, { recursive: true });
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, dir, JSON.stringify(committedEvent(route))], {
    env: {
      PATH: process.env.PATH ?? '',
      ...sdkEnvironment(fake.endpoint),
      AWS_ENDPOINT_URL_DYNAMODB: store.client.endpoint,
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      ...settingsEnvironment({ appId: 'init-app', jitsiDomain: 'meet.example.com', authMode: 'none', appointmentsTable: TABLE }),
      ...env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let callsAtInit = -1;
  const callsBefore = fake.calls.length;
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (callsAtInit < 0 && out.includes('INIT\n')) {
      callsAtInit = fake.calls.length;
      child.stdin.write('GO\n');
    }
  });
  const code = await new Promise<number | null>((resolvePromise) => child.on('exit', resolvePromise));
  recordLogLines(out, 'init-phase');
  const line = out.split('\n').find((candidate) => candidate.startsWith('RESULT '));
  if (code !== 0 || !line) throw new Error(`${fn.name} exited ${code}: ${err.slice(0, 600)}`);
  return { result: JSON.parse(line.slice(7)), initCalls: callsAtInit - callsBefore, requestCalls: fake.calls.length - callsAtInit };
}

describe('after its init phase, a deployed function holds everything its routes need', () => {
  it(`${FUNCTIONS.callerApi.name}: its first ${ROUTES.createRoom.name} imports nothing and fetches no secret`, async () => {
    const { result, initCalls, requestCalls } = await firstRequest(FUNCTIONS.callerApi, ROUTES.createRoom, settingsEnvironment({ secretArn: TEST_SECRET_ARN }));
    expect(result.statusCode, result.body).toBe(200);
    expect(initCalls).toBe(1);
    expect(requestCalls).toBe(0);
  });

  it(`${FUNCTIONS.reservationsApi.name}: its first ${ROUTES.reservationCreate.name} imports nothing and fetches no key`, async () => {
    const { result, initCalls, requestCalls } = await firstRequest(
      FUNCTIONS.reservationsApi,
      ROUTES.reservationCreate,
      settingsEnvironment({ reservationsKeyArn: RESERVATIONS_KEY_ARN, eventsKeyArn: EVENTS_KEY_ARN }),
    );
    // The committed event names an appointment room nobody registered here: Prosody is told no, by the store.
    expect([200, 403], result.body).toContain(result.statusCode);
    expect(initCalls).toBe(2);
    expect(requestCalls).toBe(0);
  });

  it(`${FUNCTIONS.publicKeys.name} (RS256): its first ${ROUTES.jitsiKeys.name} imports nothing and reads no secret at all`, async () => {
    const { result, initCalls, requestCalls } = await firstRequest(FUNCTIONS.publicKeys, ROUTES.jitsiKeys, settingsEnvironment({ signing: 'rs256' }));
    // No key was published in this table: the store was read, and answered none.
    expect(result.statusCode, result.body).toBe(404);
    expect(initCalls + requestCalls).toBe(0);
  });
});
