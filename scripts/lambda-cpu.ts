// npm run bench:cpu: cold and warm answers of each deployed bundle under Lambda's CPU model, for
// each memory size and Node version: the init phase (the bundle's import, top-level await
// included) runs on a full core, then the process joins a cgroup capped at the memory's share of
// a vCPU (1,769 MB = 1 vCPU) and answers its first request and 10 warm ones. Prints the table
// docs/PERFORMANCE.md quotes, with the cost per million requests (arm64 prices).
//
// How the cap works (Linux, cgroup v1 `cpu` controller, root): a group per size under
// /sys/fs/cgroup/cpu/ with cpu.cfs_period_us = 20,000 and cpu.cfs_quota_us = the share of it;
// the child writes its own pid into the group's cgroup.procs after the import. Where that is not
// writable, the bench says so and stops (exit 0): nothing here may need root to pass.
//
// BENCH_CPU_RUNS: fresh processes per cell (default 7); BENCH_CPU_SIZES: e.g. "256,1024";
// BENCH_CPU_SPLIT=off: each function as one file instead of the deployed split build.
// BENCH_CPU_NODES: "20", "24" or "20,24" (the default; Node 24 is installed into
// test-artifacts/node24 from the registry when missing, as CI does).
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { build } from 'esbuild';
import { BUNDLE_ENTRY_FILE, esbuildOptions } from '../infra/bundling.ts';
import { ensureTable, startEmbeddedStore } from '../infra/local/embedded-store.ts';
import { loadSettings, settingsEnvironment } from '../lib/config.ts';
import { createDeps } from '../lib/deps.ts';
import { createLogger } from '../lib/log.ts';
import { FUNCTIONS, ROUTES, type FunctionDefinition } from '../lib/routes.ts';
import { createDynamoStore } from '../lib/store.ts';
import { keyFileName } from '../lib/token.ts';
import { sdkEnvironment, startFakeSecretsManager, TEST_SECRET_ARN } from '../test/helpers/fake-secrets-manager.ts';
import { event, EVENTS_KEY, fmt, runBenchChild, EVENTS_KEY_SECRET_ARN, PROSODY_KEY, PROSODY_KEY_SECRET_ARN, reservationEvent } from './bench-events.ts';
import { PROJECT_ROOT } from './server-process.ts';
import { percentile } from './simulation/model.ts';
import { PRICES } from './simulation/parameters.ts';

export const MEMORY_SIZES_MB = [128, 256, 512, 1024, 1769] as const;
/** Lambda's CPU share: proportional to memory, one vCPU at 1,769 MB. */
export const cpuShareOf = (memoryMb: number): number => Math.min(1, memoryMb / 1769);
/** What a million requests cost at a billed duration of `ms` (rounded up to 1 ms), at the simulation's arm64 list prices. */
export const costPerMillion = (ms: number, memoryMb: number): number =>
  1e6 * ((Math.ceil(ms) / 1000) * (memoryMb / 1024) * PRICES.perGbSecond + PRICES.perRequest);

const CGROUP_ROOT = '/sys/fs/cgroup/cpu';
const CGROUP_BASE = join(CGROUP_ROOT, 'jitsi-token-api-bench');
const PERIOD_US = 20_000;
const WARM_INVOCATIONS = 10;
const RUNS = Number(process.env.BENCH_CPU_RUNS ?? 7);
const SIZES = (process.env.BENCH_CPU_SIZES?.split(',').map(Number) ?? [...MEMORY_SIZES_MB]) as number[];
const NODES = process.env.BENCH_CPU_NODES?.split(',') ?? ['20', '24'];
/** `off`: one file per function (every dynamic import inlined), to see whether the split bundles still pay. */
const SPLIT = process.env.BENCH_CPU_SPLIT !== 'off';
const OUT = join(PROJECT_ROOT, '.bench', 'cpu');
const NODE24 = join(PROJECT_ROOT, 'test-artifacts/node24/node_modules/node/bin/node');
const TABLE = 'bench-cpu-appointments';
const SECRET = randomBytes(48).toString('base64url');
/** The RS256 key the keys function serves here (published as a signer would). */
const BENCH_KID = 'bench-2026';
const RS256_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bench-rs256-AbCdEf';

/** The heaviest first request of each function, and one more of caller-api's (the ad-hoc token a patient waits on). */
interface Case {
  label: string;
  fn: FunctionDefinition;
  /** The i-th event of a run: the first, then the warm ones (each its own request: a retry would be answered from its record). */
  event: (run: string, i: number) => unknown;
  status: number;
  env?: Record<string, string>;
}

const createRoomBody = (id: string) => ({
  appointmentId: id,
  therapistId: 't-1',
  clientId: 'c-1',
  scheduledStartTime: new Date(Date.now() + 3_600_000).toISOString(),
});
const CASES: readonly Case[] = [
  {
    label: `${FUNCTIONS.callerApi.name}: ${ROUTES.generateToken.name} (ad-hoc)`,
    fn: FUNCTIONS.callerApi,
    event: () => event(ROUTES.generateToken, { roomName: 'bench-room', userName: 'Bench Person', userId: 'bench-user', isModerator: true, expiresIn: 3600 }),
    status: 200,
  },
  {
    label: `${FUNCTIONS.callerApi.name}: ${ROUTES.createRoom.name}`,
    fn: FUNCTIONS.callerApi,
    event: (run, i) => event(ROUTES.createRoom, createRoomBody(`appt-${run}-${i}`)),
    status: 200,
  },
  {
    label: `${FUNCTIONS.reservationsApi.name}: ${ROUTES.reservationCreate.name}`,
    fn: FUNCTIONS.reservationsApi,
    event: (run, i) => reservationEvent(`bench-cpu-${run}-${i}`),
    status: 200,
  },
  {
    label: `${FUNCTIONS.publicKeys.name}: ${ROUTES.jitsiKeys.name} (RS256)`,
    fn: FUNCTIONS.publicKeys,
    event: () => ({ ...event(ROUTES.jitsiKeys, undefined), pathParameters: { keyFile: keyFileName(BENCH_KID) } }),
    status: 200,
    env: settingsEnvironment({ signing: 'rs256' }),
  },
];

/** The child: import (full core), join the cgroup, answer the first event, then the warm ones. */
const CHILD = `
import { readFileSync, writeFileSync } from 'node:fs';
const [bundle, eventsFile, procs] = process.argv.slice(1);
const events = JSON.parse(readFileSync(eventsFile, 'utf8'));
const context = (i) => ({ awsRequestId: 'cpu-' + i, functionName: 'bench', getRemainingTimeInMillis: () => 10000 });
const started = performance.now();
const { handler } = await import(bundle);
const initMs = performance.now() - started;
if (procs !== '-') writeFileSync(procs, String(process.pid));
const statuses = [];
const times = [];
for (let i = 0; i < events.length; i++) {
  const t = performance.now();
  const result = await handler(events[i], context(i));
  times.push(performance.now() - t);
  statuses.push(result.statusCode);
}
process.stdout.write('CPU ' + JSON.stringify({ initMs, times, statuses }) + '\\n');
`;

interface Sample {
  initMs: number;
  times: number[];
  statuses: number[];
}

function cgroupFor(memoryMb: number): string {
  const dir = join(CGROUP_BASE, String(memoryMb));
  mkdirSync(dir, { recursive: true });
  // Unlimited first, so the new period is never refused for being shorter than an old quota.
  writeFileSync(join(dir, 'cpu.cfs_quota_us'), '-1');
  writeFileSync(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
  writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(Math.round(PERIOD_US * cpuShareOf(memoryMb))));
  return join(dir, 'cgroup.procs');
}

/** Every group this bench made (their processes have exited). */
function removeCgroups(): void {
  if (!existsSync(CGROUP_BASE)) return;
  for (const entry of readdirSync(CGROUP_BASE, { withFileTypes: true })) if (entry.isDirectory()) rmdirSync(join(CGROUP_BASE, entry.name));
  rmdirSync(CGROUP_BASE);
}

function cgroupsWritable(): boolean {
  try {
    mkdirSync(CGROUP_BASE, { recursive: true });
    cgroupFor(1769);
    return true;
  } catch {
    return false;
  }
}

const runChild = (node: string, bundle: string, eventsFile: string, procs: string, env: Record<string, string>) =>
  runBenchChild<Sample>(node, CHILD, [bundle, eventsFile, procs], env, 'CPU');

/** EventBridge's PutEvents on loopback (AWS JSON 1.1): every entry accepted, counted. */
async function startLoopbackEventBridge(): Promise<{ endpoint: string; calls: () => number; close: () => Promise<void> }> {
  let calls = 0;
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      calls++;
      const entries = (JSON.parse(body || '{}') as { Entries?: unknown[] }).Entries ?? [];
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify({ FailedEntryCount: 0, Entries: entries.map((_, index) => ({ EventId: `bench-${calls}-${index}` })) }));
    });
  });
  await new Promise<void>((resolvePromise) => server.listen(0, '127.0.0.1', resolvePromise));
  const { port } = server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, calls: () => calls, close: () => new Promise((resolvePromise) => server.close(() => resolvePromise())) };
}

async function main(): Promise<void> {
  if (!cgroupsWritable()) {
    console.log(`bench:cpu skipped: ${CGROUP_ROOT} is not writable here (it needs Linux's cgroup v1 cpu controller and root).`);
    return;
  }
  const nodes: Record<string, string> = {};
  for (const version of NODES) {
    if (version === '24' && !existsSync(NODE24)) {
      process.stderr.write('installing Node 24 into test-artifacts/node24\n');
      execFileSync('npm', ['install', '--prefix', join(PROJECT_ROOT, 'test-artifacts/node24'), '--no-audit', '--no-fund', '--no-save', 'node@24.21.0'], {
        stdio: 'ignore',
      });
    }
    nodes[version] = version === '24' ? NODE24 : process.execPath;
  }

  const fake = await startFakeSecretsManager();
  const store = await startEmbeddedStore('memory');
  await ensureTable(store.client, TABLE);
  // RS256's public key, published as the signing function would, for the keys function to serve.
  const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
  const rs256Secret = JSON.stringify({ kid: BENCH_KID, privateKey });
  fake.secrets.set(TEST_SECRET_ARN, SECRET);
  fake.secrets.set(RS256_SECRET_ARN, rs256Secret);
  fake.secrets.set(PROSODY_KEY_SECRET_ARN, PROSODY_KEY);
  fake.secrets.set(EVENTS_KEY_SECRET_ARN, EVENTS_KEY);
  const signer = createDeps(
    loadSettings(settingsEnvironment({ appId: 'bench-app', authMode: 'none', signing: 'rs256', appointmentsTable: TABLE, appSecret: rs256Secret })),
    { logger: createLogger(() => {}), openStore: createDynamoStore, storeClient: store.client },
  );
  await signer.keyring.current();

  // Each function's environment as the stack gives it: only the signing function is told where the secret is.
  const eventBridge = await startLoopbackEventBridge();
  const baseEnv = {
    ...sdkEnvironment(fake.endpoint),
    AWS_LAMBDA_FUNCTION_NAME: 'bench',
    AWS_ENDPOINT_URL_DYNAMODB: store.client.endpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge.endpoint,
    ...settingsEnvironment({ appId: 'bench-app', jitsiDomain: 'meet.example.com', authMode: 'none', appointmentsTable: TABLE }),
  };
  const envOf = (testCase: Case): Record<string, string> => ({
    ...baseEnv,
    ...(testCase.fn === FUNCTIONS.callerApi ? settingsEnvironment({ secretArn: TEST_SECRET_ARN }) : {}),
    // As the stack deploys them: the functions that record decisions tell the platform on the bus.
    ...(testCase.fn !== FUNCTIONS.publicKeys ? settingsEnvironment({ eventBusName: 'bench-bus' }) : {}),
    ...(testCase.fn === FUNCTIONS.reservationsApi
      ? settingsEnvironment({ reservationsKeyArn: PROSODY_KEY_SECRET_ARN, eventsKeyArn: EVENTS_KEY_SECRET_ARN })
      : {}),
    ...(testCase.env ?? {}),
  });

  rmSync(OUT, { recursive: true, force: true });
  const bundles = new Map<FunctionDefinition, string>();
  for (const fn of Object.values(FUNCTIONS)) {
    const outdir = join(OUT, fn.name);
    const options = esbuildOptions(join(PROJECT_ROOT, fn.entry), outdir, { bundleAwsSdk: true });
    await build(SPLIT ? options : { ...options, splitting: false });
    bundles.set(fn, join(outdir, BUNDLE_ENTRY_FILE));
  }

  const samples = new Map<string, Sample[]>();
  const key = (node: string, label: string, size: number | 'uncapped') => `${node}|${label}|${size}`;
  const cells = [...SIZES, 'uncapped' as const];
  let done = 0;
  const total = RUNS * Object.keys(nodes).length * CASES.length * cells.length;
  for (let run = 0; run < RUNS; run++) {
    for (const [version, node] of Object.entries(nodes)) {
      for (const testCase of CASES) {
        for (const size of cells) {
          const eventsFile = join(OUT, `events-${run}-${version}-${testCase.fn.name}-${size}.json`);
          const runId = `${run}-${version}-${size}-${randomBytes(3).toString('hex')}`;
          writeFileSync(eventsFile, JSON.stringify(Array.from({ length: WARM_INVOCATIONS + 1 }, (_, i) => testCase.event(runId, i))));
          const sample = await runChild(node, bundles.get(testCase.fn)!, eventsFile, size === 'uncapped' ? '-' : cgroupFor(size), envOf(testCase));
          const bad = sample.statuses.filter((status) => status !== testCase.status);
          if (bad.length > 0) process.stderr.write(`  ${testCase.label} at ${size} MB on Node ${version}: answered ${sample.statuses.join(', ')}\n`);
          samples.set(key(version, testCase.label, size), [...(samples.get(key(version, testCase.label, size)) ?? []), sample]);
          process.stderr.write(`\r  ${++done}/${total}`);
        }
      }
    }
  }
  process.stderr.write('\n');
  await fake.close();
  await store.close();
  await eventBridge.close();
  process.stderr.write(`  PutEvents calls answered: ${eventBridge.calls()}\n`);
  removeCgroups();

  console.log(
    `\njitsi-token-api bench:cpu: init on a full core, the handler capped at the memory's share; ${RUNS} fresh processes per cell, ${WARM_INVOCATIONS} warm invocations each; ${SPLIT ? 'the deployed split build' : 'one file per function (BENCH_CPU_SPLIT=off)'}; ${new Date().toISOString().slice(0, 10)}\n`,
  );
  console.log(
    '| Node | function: first request | memory | CPU share | init p50 | first answer p50 / p95 | warm p50 / p95 | not the expected status | cost per 1M warm requests |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const version of Object.keys(nodes)) {
    for (const testCase of CASES) {
      for (const size of cells) {
        const cell = samples.get(key(version, testCase.label, size))!;
        const first = cell.map((sample) => sample.times[0]!);
        const warm = cell.flatMap((sample) => sample.times.slice(1));
        const wrong = cell.flatMap((sample) => sample.statuses).filter((status) => status !== testCase.status);
        const memory = size === 'uncapped' ? 'full core (no cap)' : `${size.toLocaleString('en-US')} MB`;
        const share = size === 'uncapped' ? '' : `${(cpuShareOf(size) * 100).toFixed(1)} %`;
        const cost = size === 'uncapped' ? '' : `$${costPerMillion(percentile(warm, 50), size).toFixed(2)}`;
        console.log(
          `| ${version} | ${testCase.label} | ${memory} | ${share} | ${fmt(
            percentile(
              cell.map((sample) => sample.initMs),
              50,
            ),
          )} ms | ${fmt(percentile(first, 50))} / ${fmt(percentile(first, 95))} ms | ${fmt(percentile(warm, 50))} / ${fmt(percentile(warm, 95))} ms | ${wrong.length === 0 ? 'none' : wrong.join(', ')} | ${cost} |`,
        );
      }
    }
  }
}

await main();
