// Does the answer's time tell a stranger whether an appointment id exists? Paired requests over
// real HTTP to the local server (embedded store, in this process): for each pair, one refused
// request for an existing appointment and the same request for an unknown id, in random order,
// N pairs per route (REFUSAL_PAIRS, default 1,000). Prints each side's median and the paired
// differences (existing − unknown): their median and middle 90 %, against the spread of either.
import { ensureTable, startEmbeddedStore } from '../infra/local/embedded-store.ts';
import { createLocalDeps } from '../infra/local/deps.ts';
import { startLocalServer } from '../infra/local/server.ts';
import { loadLocalSettings, settingsEnvironment } from '../lib/config.ts';
import { createLogger } from '../lib/log.ts';
import { ROUTES } from '../lib/routes.ts';

const PAIRS = Number(process.env.REFUSAL_PAIRS ?? 1_000);
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const ms = (value: number) => `${value.toFixed(3)} ms`;

async function main(): Promise<void> {
  const store = await startEmbeddedStore('memory');
  const settings = loadLocalSettings(
    settingsEnvironment({
      appSecret: 'refusal-timing-secret-refusal-timing-secret-0123',
      reservationsApiKey: 'refusal-timing-key-refusal-timing-key-0123456',
      logLevel: 'error',
    }),
  );
  await ensureTable(store.client, settings.appointmentsTable);
  const deps = createLocalDeps(settings, { storeClient: store.client, logger: createLogger(undefined, undefined, 'error') });
  const server = await startLocalServer({ deps, port: 0, host: '127.0.0.1' });
  const send = async (path: string, init: RequestInit = {}) => {
    const started = performance.now();
    const response = await fetch(`${server.url}${path}`, init);
    await response.arrayBuffer();
    if (response.status !== 403) throw new Error(`expected a refusal (403), got ${response.status} for ${path}`);
    return performance.now() - started;
  };
  const created = await fetch(`${server.url}${ROUTES.createRoom.path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      appointmentId: 'timing-known',
      therapistId: 'dr-x',
      clientId: 'cl-x',
      scheduledStartTime: new Date(Date.now() + 600_000).toISOString(),
    }),
  });
  if (created.status !== 200) throw new Error(`${ROUTES.createRoom.name} answered ${created.status}`);

  const routes: Array<[string, (id: string) => Promise<number>]> = [
    ['GET appointment (a stranger)', (id) => send(`/api/jitsi/appointments/${id}?userId=stranger`)],
    [
      `${ROUTES.generateToken.name} by appointmentId (a stranger)`,
      (id) =>
        send(ROUTES.generateToken.path, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ appointmentId: id, userId: 'stranger', userName: 'S' }),
        }),
    ],
  ];
  console.log(`| route (${PAIRS} pairs) | existing id, median | unknown id, median | paired difference: median | middle 90 % of differences |`);
  console.log('|---|---|---|---|---|');
  for (const [name, request] of routes) {
    // Warm up: the SDK, the connections, the JIT.
    for (let index = 0; index < 50; index += 1) await Promise.all([request('timing-known'), request(`timing-unknown-w${index}`)]);
    const known: number[] = [];
    const unknown: number[] = [];
    const differences: number[] = [];
    for (let index = 0; index < PAIRS; index += 1) {
      const unknownId = `timing-unknown-${index}`;
      const knownFirst = Math.random() < 0.5;
      let k: number;
      let u: number;
      if (knownFirst) {
        k = await request('timing-known');
        u = await request(unknownId);
      } else {
        u = await request(unknownId);
        k = await request('timing-known');
      }
      known.push(k);
      unknown.push(u);
      differences.push(k - u);
    }
    for (const list of [known, unknown, differences]) list.sort((a, b) => a - b);
    console.log(
      `| ${name} | ${ms(quantile(known, 0.5))} | ${ms(quantile(unknown, 0.5))} | ${ms(quantile(differences, 0.5))} | ${ms(quantile(differences, 0.05))} … ${ms(quantile(differences, 0.95))} |`,
    );
  }
  await server.close();
  await store.close();
}

await main();
