// Every write route, a fault at every store call it makes: before the call reaches the store,
// and after the store applied it with its answer lost; once (the SDK's own retry may absorb it)
// or with the store staying down. Then the same request again, as a caller or Prosody would
// retry. Over real HTTP, the real AWS SDK, the embedded store behind a loopback endpoint that
// injects the faults. What must hold (issue: "The record you can trust"):
//   - the faulted call answers 2xx or 503, never anything else, never half a change: the
//     appointment's history is either what it was or what one clean call leaves;
//   - after the retry, the history, the refusals and the side records (room pointer, join code)
//     are exactly what one clean call leaves, and the retry answers what the first call would.
// The table it prints is docs/RELIABILITY.md's (test-artifacts/figures/fault-matrix.md).
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTable, startEmbeddedStore, type EmbeddedStore } from '../../infra/local/embedded-store.ts';
import type { RunningServer } from '../../infra/local/server.ts';
import { ROUTES } from '../../lib/routes.ts';
import { startFakeDynamoDb, type FakeDynamoDb, type FaultPoint, type PlannedFault } from '../helpers/fake-dynamodb.ts';
import { TEST_RESERVATIONS_KEY } from '../helpers/handlers.ts';
import { startServer } from '../helpers/local-server.ts';
import { rawRequest } from '../helpers/raw-http.ts';

const TABLE = 'fault-matrix';
let store: EmbeddedStore;
let fake: FakeDynamoDb;
let server: RunningServer;
let scan: (appointmentId: string) => Promise<Snapshot>;

beforeAll(async () => {
  store = await startEmbeddedStore('memory');
  await ensureTable(store.client, TABLE);
  fake = await startFakeDynamoDb(store.client.endpoint);
  server = await startServer({ APPOINTMENTS_TABLE: TABLE, AWS_ENDPOINT_URL_DYNAMODB: fake.endpoint, JOIN_LINK_BASE_URL: undefined });
  // Read straight from the embedded store (not through the faulty endpoint).
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { DynamoDBDocumentClient, ScanCommand } = await import('@aws-sdk/lib-dynamodb');
  const client = DynamoDBDocumentClient.from(new DynamoDBClient(store.client));
  scan = async (appointmentId) => {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await client.send(new ScanCommand({ TableName: TABLE, ExclusiveStartKey: start }));
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return snapshotOf(items, appointmentId);
  };
});
afterAll(async () => {
  await server?.close();
  await fake?.close();
  await store?.close();
});

interface Snapshot {
  /** The appointment's history: each event's place, state and records. */
  history: string[];
  refusals: string[];
  /** Room pointers and join codes that belong to it. */
  sideRecords: string[];
}

/** What one appointment's items say, without the times, ids and hashes that differ between runs. */
function snapshotOf(items: Record<string, unknown>[], appointmentId: string): Snapshot {
  const mine = items.filter((item) => item.pk === `APPT#${appointmentId}` || item.appointmentId === appointmentId || item.pk === `CONF#adhoc-${appointmentId}`);
  const digitsOut = (text: unknown) => String(text ?? '-').replace(/\d+/g, '#');
  const history = mine
    .filter((item) => String(item.sk).startsWith('E#'))
    .map((item) => {
      const records = (item.records as Record<string, unknown>[]).map(
        (record) => `${record.action}:${record.actor}:${record.role ?? '-'}:${digitsOut(record.note)}`,
      );
      return `${item.seq} ${item.status} v${item.version} room:${item.conference ? 'open' : '-'} [${records.join(', ')}]`;
    });
  const refusals = mine.filter((item) => String(item.sk).startsWith('R#')).map((item) => `${item.actor}:${item.note}:${item.count}`);
  const kindOf = (item: Record<string, unknown>) => String(item.pk).split('#')[0] ?? '';
  const sideRecords = mine
    .filter((item) => ['ROOM', 'JOIN', 'CONF', 'OUTCOMES'].includes(kindOf(item)))
    .map((item) => {
      if (kindOf(item) === 'JOIN') return `join-code:${item.usedBy === undefined ? 'unused' : 'claimed'}`;
      if (kindOf(item) === 'CONF') return `ad-hoc conference ${item.closedAt === undefined ? 'open' : 'closed'}`;
      return kindOf(item) === 'ROOM' ? 'room-pointer' : 'outcome to tell';
    });
  return { history, refusals: refusals.sort(), sideRecords: sideRecords.sort() };
}

type Send = () => Promise<{ status: number; body: Record<string, unknown> | undefined }>;

const json = (text: string) => {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
};
const call = async (path: string, method: string, body?: unknown, headers: Record<string, string> = {}) => {
  const response = await rawRequest(`${server.url}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: json(response.text) };
};
const prosody = (path: string, method: string, form?: string) =>
  rawRequest(`${server.url}/api/jitsi/reservations${path}`, {
    method,
    headers: { authorization: `Bearer ${TEST_RESERVATIONS_KEY}`, ...(form === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }) },
    ...(form === undefined ? {} : { body: form }),
  }).then((response) => ({ status: response.status, body: json(response.text) }));

const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();
const registration = (appointmentId: string, minutes = 5) => ({
  appointmentId,
  therapistId: 'dr-f',
  clientId: 'cl-f',
  therapistName: 'Dr F',
  clientName: 'F',
  scheduledStartTime: inMinutes(minutes),
  durationMinutes: 50,
});
const createRoom = (body: unknown) => call(ROUTES.createRoom.path, 'POST', body);
const appointmentPath = (appointmentId: string, rest = '') => `/api/jitsi/appointments/${appointmentId}${rest}?userId=dr-f`;
const reservationForm = (room: string, startMs: number) =>
  new URLSearchParams({ name: room, start_time: new Date(startMs).toISOString(), mail_owner: 'f00d@meet.example.test' }).toString();

interface Scenario {
  route: string;
  /** Sets the appointment up (no faults) and returns the request under test. */
  setup(appointmentId: string): Promise<Send>;
}

const SCENARIOS: Scenario[] = [
  {
    route: 'create-room (new)',
    setup: async (id) => {
      const body = registration(id);
      return () => createRoom(body);
    },
  },
  {
    route: 'create-room (new time)',
    setup: async (id) => {
      await createRoom(registration(id));
      const body = registration(id, 90);
      return () => createRoom(body);
    },
  },
  {
    route: 'generate-token (appointment)',
    setup: async (id) => {
      await createRoom(registration(id));
      return () => call(ROUTES.generateToken.path, 'POST', { appointmentId: id, userId: 'cl-f', userName: 'F' });
    },
  },
  {
    route: 'refresh-token (appointment)',
    setup: async (id) => {
      const token = (await createRoom(registration(id))).body?.clientToken;
      return () => call(ROUTES.refreshToken.path, 'POST', { token });
    },
  },
  {
    route: 'PATCH appointment (move)',
    setup: async (id) => {
      await createRoom(registration(id));
      const body = { scheduledStartTime: inMinutes(120), durationMinutes: 50 };
      return () => call(appointmentPath(id), 'PATCH', body);
    },
  },
  {
    route: 'DELETE appointment (cancel)',
    setup: async (id) => {
      await createRoom(registration(id));
      return () => call(appointmentPath(id), 'DELETE');
    },
  },
  {
    route: 'create join link',
    setup: async (id) => {
      await createRoom(registration(id));
      return () => call(appointmentPath(id, '/join-links'), 'POST');
    },
  },
  {
    route: 'exchange join link',
    setup: async (id) => {
      await createRoom(registration(id));
      const { code } = (await call(appointmentPath(id, '/join-links'), 'POST')).body as { code: string };
      return () => call(ROUTES.exchangeJoinLink.path, 'POST', { code, userName: 'F' });
    },
  },
  {
    route: 'reservation POST (appointment room)',
    setup: async (id) => {
      const room = (await createRoom(registration(id, 0))).body?.roomName as string;
      const start = Date.now();
      return () => prosody('/conference', 'POST', reservationForm(room, start));
    },
  },
  {
    route: 'reservation POST (ad-hoc room)',
    setup: async (id) => {
      const start = Date.now();
      return () => prosody('/conference', 'POST', reservationForm(`adhoc-${id}`, start));
    },
  },
  {
    route: 'reservation DELETE (ad-hoc room)',
    setup: async (id) => {
      await prosody('/conference', 'POST', reservationForm(`adhoc-${id}`, Date.now()));
      return () => prosody(`/conference/adhoc-${id}`, 'DELETE');
    },
  },
  {
    route: 'reservation DELETE (appointment room)',
    setup: async (id) => {
      const room = (await createRoom(registration(id, 0))).body?.roomName as string;
      await prosody('/conference', 'POST', reservationForm(room, Date.now()));
      return () => prosody(`/conference/${room}`, 'DELETE');
    },
  },
];

interface Outcome {
  route: string;
  call: string;
  point: FaultPoint;
  store: 'once' | 'down';
  first: number;
  retry: number;
  same: boolean;
}
const outcomes: Outcome[] = [];
let runs = 0;

/**
 * Runs one faulted request and its retry for every store call the clean request made, before and
 * after the store applies it, once and with the store down; the run's expectations fail the test,
 * so a row is only recorded (as holding) when they all held.
 */
async function eachFault(
  route: string,
  operations: string[],
  run: (fault: PlannedFault, label: string) => Promise<{ first: number; retry: number; same: boolean }>,
): Promise<void> {
  for (const [index, operation] of operations.entries()) {
    for (const point of ['before', 'after'] as const) {
      for (const down of [false, true]) {
        const label = `${route}: call ${index} (${operation}) ${point}, store ${down ? 'down' : 'once'}`;
        const result = await run({ call: index, point, thenDown: down }, label);
        outcomes.push({ route, call: `${index} ${operation}`, point, store: down ? 'down' : 'once', ...result });
      }
    }
  }
}

describe('a fault at every store call of every write route, then a retry', () => {
  it.each(SCENARIOS.map((scenario) => [scenario.route, scenario] as const))('%s: never half a change; the retry completes it', async (_, scenario) => {
    const cleanId = `fm-${++runs}`;
    const cleanSend = await scenario.setup(cleanId);
    const before = fake.calls.length;
    const clean = await cleanSend();
    const operations = fake.calls.slice(before);
    expect(clean.status, `${scenario.route} clean`).toBeLessThan(300);
    const cleanSnapshot = await scan(cleanId);
    // The same request again, undisturbed, changes nothing (a retry is recognised).
    const cleanRetry = await cleanSend();
    expect(await scan(cleanId), `${scenario.route}: a clean retry`).toEqual(cleanSnapshot);
    expect(operations.length).toBeGreaterThan(0);

    await eachFault(scenario.route, operations, async (fault, label) => {
      const id = `fm-${++runs}`;
      const send = await scenario.setup(id);
      const setUp = await scan(id);
      fake.plan(fault);
      const first = await send();
      fake.plan(undefined);
      const between = await scan(id);
      const retry = await send();
      const after = await scan(id);
      // The faulted answer: done, or 503 with nothing half-written.
      expect([200, 201, 503], label).toContain(first.status);
      expect([setUp.history, cleanSnapshot.history], label).toContainEqual(between.history);
      // After the retry: what one clean call leaves, and the answer a first call would give.
      expect(after, label).toEqual(cleanSnapshot);
      expect(retry.status === clean.status || retry.status === cleanRetry.status, `${label}: retry answered ${retry.status}`).toBe(true);
      return { first: first.status, retry: retry.status, same: true };
    });
  });

  const REFUSALS: Array<{ route: string; send: (id: string) => Send }> = [
    { route: 'GET appointment (a stranger)', send: (id) => () => call(`/api/jitsi/appointments/${id}?userId=stranger`, 'GET') },
    { route: 'audit trail (the client)', send: (id) => () => call(`/api/jitsi/appointments/${id}/audit?userId=cl-f`, 'GET') },
    {
      route: 'PATCH appointment (a stranger)',
      send: (id) => () => call(`/api/jitsi/appointments/${id}?userId=stranger`, 'PATCH', { scheduledStartTime: inMinutes(120) }),
    },
    {
      route: 'generate-token (a stranger)',
      send: (id) => () => call(ROUTES.generateToken.path, 'POST', { appointmentId: id, userId: 'stranger', userName: 'S' }),
    },
  ];
  const refusalCount = async (id: string) => {
    const snapshot = await scan(id);
    return snapshot.refusals.reduce((sum, line) => sum + Number(line.split(':').at(-1)), 0);
  };

  it.each(REFUSALS.map((refusal) => [refusal.route, refusal] as const))('%s: each refusal answered is counted once, whatever fails', async (_, refusal) => {
    const cleanId = `fm-${++runs}`;
    await createRoom(registration(cleanId));
    const before = fake.calls.length;
    expect((await refusal.send(cleanId)()).status).toBe(403);
    const operations = fake.calls.slice(before);
    expect(await refusalCount(cleanId)).toBe(1);
    await eachFault(refusal.route, operations, async (fault, label) => {
      const id = `fm-${++runs}`;
      await createRoom(registration(id));
      fake.plan(fault);
      const first = await refusal.send(id)();
      fake.plan(undefined);
      const retry = await refusal.send(id)();
      expect([403, 503], label).toContain(first.status);
      expect(retry.status, label).toBe(403);
      // Every 403 is counted once; a 503 whose write landed before its answer was lost may be counted too, never twice.
      const answered = [first, retry].filter((answer) => answer.status === 403).length;
      const count = await refusalCount(id);
      expect(count, label).toBeGreaterThanOrEqual(answered);
      expect(count, label).toBeLessThanOrEqual(2);
      return { first: first.status, retry: retry.status, same: true };
    });
  });

  afterAll(() => {
    const lines = [
      '| route | store call | fault | store | first answer | retry answer | state and trail after the retry |',
      '|---|---|---|---|---|---|---|',
      ...outcomes.map(
        (outcome) =>
          `| ${outcome.route} | ${outcome.call} | ${outcome.point} | ${outcome.store} | ${outcome.first} | ${outcome.retry} | ${outcome.same ? 'as one clean call' : 'DIFFERENT'} |`,
      ),
    ];
    // One row per route: its store calls, and what the faulted calls and their retries answered.
    const tally = (values: number[]) =>
      [...new Set(values)]
        .sort()
        .map((value) => `${value} × ${values.filter((other) => other === value).length}`)
        .join(', ');
    const summary = [
      '| route | its store calls | faulted runs | first answers | retry answers | after the retry |',
      '|---|---|---|---|---|---|',
      ...SCENARIOS.map((scenario) => {
        const rows = outcomes.filter((outcome) => outcome.route === scenario.route);
        const calls = [...new Set(rows.map((row) => row.call))].map((call) => call.split(' ')[1]).join(' → ');
        return `| ${scenario.route} | ${calls} | ${rows.length} | ${tally(rows.map((row) => row.first))} | ${tally(rows.map((row) => row.retry))} | ${rows.filter((row) => row.same).length}/${rows.length} as one clean call |`;
      }),
      ...REFUSALS.map(({ route }) => {
        const rows = outcomes.filter((outcome) => outcome.route === route);
        const calls = [...new Set(rows.map((row) => row.call))].map((call) => call.split(' ')[1]).join(' → ');
        return `| ${route} | ${calls} | ${rows.length} | ${tally(rows.map((row) => row.first))} | ${tally(rows.map((row) => row.retry))} | ${rows.filter((row) => row.same).length}/${rows.length} each 403 counted once |`;
      }),
    ];
    mkdirSync('test-artifacts/figures', { recursive: true });
    writeFileSync('test-artifacts/figures/fault-matrix.md', `${summary.join('\n')}\n\n${lines.join('\n')}\n`);
    if (process.env.PRINT_FAULT_MATRIX) console.log(`${summary.join('\n')}\n\n${lines.join('\n')}`);
  });
});
