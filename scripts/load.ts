// npm run load: autocannon against the local server (its own process) for minting and checking
// tokens at several connection counts. Prints requests/s, p50, p99, errors and non-2xx;
// exits 1 on any error or 5xx. LOAD_SECONDS sets the duration of each run (default 30).
import { cpus } from 'node:os';
import autocannon from 'autocannon';
import { ROUTES } from '../lib/routes.ts';
import { startServerProcess } from './server-process.ts';

const SECONDS = Number(process.env.LOAD_SECONDS ?? 30);
const CONNECTIONS = (process.env.LOAD_CONNECTIONS ?? '1,10,50').split(',').map(Number);
const headers = { 'content-type': 'application/json' };

const server = await startServerProcess();
const minted = await fetch(`${server.url}${ROUTES.generateToken.path}`, {
  method: 'POST',
  headers,
  body: JSON.stringify({ roomName: 'load-room', userName: 'Load Test' }),
});
const { token } = (await minted.json()) as { token: string };
// An appointment the client fetches its own token for: one store read and one audit write per request.
const registered = await fetch(`${server.url}${ROUTES.createRoom.path}`, {
  method: 'POST',
  headers,
  body: JSON.stringify({
    appointmentId: 'load-appt',
    therapistId: 'load-t',
    clientId: 'load-c',
    scheduledStartTime: new Date(Date.now() + 600_000).toISOString(),
  }),
});
if (registered.status !== 200) throw new Error(`load: ${ROUTES.createRoom.name} answered ${registered.status}`);
const targets: Array<{ route: (typeof ROUTES)[keyof typeof ROUTES]; label?: string; body: string }> = [
  {
    route: ROUTES.generateToken,
    body: JSON.stringify({ roomName: 'load-room', userName: 'Load Test', userId: 'load-user', isModerator: false, expiresIn: 3600 }),
  },
  { route: ROUTES.validateToken, body: JSON.stringify({ token }) },
  {
    route: ROUTES.generateToken,
    label: `${ROUTES.generateToken.name} (appointment)`,
    body: JSON.stringify({ appointmentId: 'load-appt', userId: 'load-c', userName: 'Load Client' }),
  },
];

console.log(`load: ${SECONDS} s per run, node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, server in its own process on loopback`);
console.log('| endpoint | connections | requests/s | p50 ms | p99 ms | requests | errors | non-2xx | 5xx |');
console.log('|---|---|---|---|---|---|---|---|---|');
let failed = false;
for (const target of targets) {
  for (const connections of CONNECTIONS) {
    const result = await autocannon({ url: `${server.url}${target.route.path}`, method: 'POST', headers, body: target.body, connections, duration: SECONDS });
    const fiveHundreds = Object.entries(result.statusCodeStats ?? {})
      .filter(([status]) => status.startsWith('5'))
      .reduce((sum, [, stats]) => sum + (stats.count ?? 0), 0);
    if (result.errors > 0 || result.timeouts > 0 || fiveHundreds > 0 || result.non2xx > 0) failed = true;
    console.log(
      `| ${target.label ?? target.route.name} | ${connections} | ${Math.round(result.requests.average)} | ${result.latency.p50} | ${result.latency.p99} | ${result.requests.total} | ${result.errors + result.timeouts} | ${result.non2xx} | ${fiveHundreds} |`,
    );
  }
}
await server.stop();
if (failed) {
  console.error('load: errors, timeouts or non-2xx answers seen');
  process.exit(1);
}
