// The events the benchmarks send: what API Gateway (or Prosody, through it) sends a function for a
// route, and the fresh process each cold start runs in. Shared by npm run bench and npm run
// bench:cpu so both measure the same requests the same way.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { gatewayEvent, type GatewayOrigin } from '../infra/local/gateway-event.ts';
import { routeKeyOf, ROUTES, type RouteDefinition } from '../lib/routes.ts';

export const BENCH_ORIGIN: GatewayOrigin = {
  accountId: '1',
  apiId: 'bench',
  domainName: 'bench',
  domainPrefix: 'bench',
  sourceIp: '127.0.0.1',
  userAgent: 'bench',
  protocol: 'HTTP/1.1',
};

/** The event API Gateway sends the function for a route (its routeKey picks the handler). */
export function event(route: RouteDefinition, body: unknown) {
  return gatewayEvent(BENCH_ORIGIN, {
    routeKey: routeKeyOf(route),
    method: route.method,
    rawPath: route.path,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    requestId: 'bench',
    time: '',
    timeEpoch: 0,
  });
}
export const PROSODY_KEY_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bench-reservations-key-AbCdEf';
export const PROSODY_KEY = randomBytes(32).toString('base64url');

export const EVENTS_KEY_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bench-events-key-AbCdEf';
export const EVENTS_KEY = randomBytes(32).toString('base64url');

/** Prosody's event sync component: someone joined an ad-hoc room (its payload; one counting update). */
export function occupantJoinedEvent(nick: string) {
  const route = ROUTES.occupantJoinedEvent;
  const room = 'bench-standup';
  return gatewayEvent(BENCH_ORIGIN, {
    routeKey: routeKeyOf(route),
    method: route.method,
    rawPath: route.path,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${EVENTS_KEY}` },
    body: JSON.stringify({
      event_name: 'muc-occupant-joined',
      room_name: room,
      room_jid: `${room}@conference.meet.jitsi`,
      is_breakout: false,
      occupant: { occupant_jid: `${room}@conference.meet.jitsi/${nick}`, joined_at: Math.floor(Date.now() / 1000), name: 'Bench Person', id: 'u-1' },
      active_occupants_count: 1,
    }),
    requestId: 'bench',
    time: '',
    timeEpoch: 0,
  });
}

/** Prosody's reservation call for a room nobody opened yet (an ad-hoc room: one conditional write). */
export function reservationEvent(room: string) {
  const route = ROUTES.reservationCreate;
  return gatewayEvent(BENCH_ORIGIN, {
    routeKey: routeKeyOf(route),
    method: route.method,
    rawPath: route.path,
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${PROSODY_KEY}` },
    body: new URLSearchParams({ name: room, start_time: new Date().toISOString(), mail_owner: 'owner@meet.example.com' }).toString(),
    requestId: 'bench',
    time: '',
    timeEpoch: 0,
  });
}

/**
 * Runs an ESM script in a fresh Node process (`node`: which binary) with only `env` (and PATH),
 * and answers the JSON it printed after `marker`; rejects with its stderr if it failed.
 */
export function runBenchChild<T>(node: string, script: string, args: readonly string[], env: Record<string, string>, marker: string): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(node, ['--input-type=module', '-e', script, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('exit', (code) => {
      const line = out.split('\n').find((candidate) => candidate.startsWith(`${marker} `));
      if (code !== 0 || !line) return reject(new Error(`${args[0] ?? 'bench child'} failed (${code}): ${err.slice(0, 500)}`));
      resolvePromise(JSON.parse(line.slice(marker.length + 1)) as T);
    });
  });
}

/** A figure as the benches print it: whole from 100, one decimal from 10, two below. */
export const fmt = (n: number): string => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(n >= 10 ? 1 : 2));
