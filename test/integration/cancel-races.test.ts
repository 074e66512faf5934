// Cancel wins: once the therapist's cancel has answered, no token, refresh or join-link exchange
// for the appointment succeeds, even when one of the token request's store calls is slow. The
// race is ordered by the test, not by timing: the token request's store call is held (before it
// reaches the store, or with its answer delayed after the store applied it) while the cancel
// runs to its answer, then let go. The token's write is conditional on its place in the
// appointment's history, which the cancel took first, so the request decides again and is
// refused. The one call not held with its answer delayed is the token's final write: once that
// landed, the token was issued before the cancel (its record comes first in the history), and
// no design can call back an answer already on its way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTable, startEmbeddedStore, type EmbeddedStore } from '../../infra/local/embedded-store.ts';
import type { RunningServer } from '../../infra/local/server.ts';
import { ROUTES } from '../../lib/routes.ts';
import { startFakeDynamoDb, type FakeDynamoDb, type FaultPoint } from '../helpers/fake-dynamodb.ts';
import { post, startServer } from '../helpers/local-server.ts';

const TABLE = 'cancel-races';
let store: EmbeddedStore;
let fake: FakeDynamoDb;
let server: RunningServer;

beforeAll(async () => {
  store = await startEmbeddedStore('memory');
  await ensureTable(store.client, TABLE);
  fake = await startFakeDynamoDb(store.client.endpoint);
  server = await startServer({ APPOINTMENTS_TABLE: TABLE, AWS_ENDPOINT_URL_DYNAMODB: fake.endpoint });
});
afterAll(async () => {
  await server?.close();
  await fake?.close();
  await store?.close();
});

let ids = 0;
const appointmentUrl = (id: string, rest = '') => `${server.url}/api/jitsi/appointments/${id}${rest}?userId=dr-c`;
async function book(): Promise<{ id: string; clientToken: string }> {
  const id = `race-${++ids}`;
  const created = await post(`${server.url}${ROUTES.createRoom.path}`, {
    appointmentId: id,
    therapistId: 'dr-c',
    clientId: 'cl-c',
    scheduledStartTime: new Date(Date.now() + 5 * 60_000).toISOString(),
    durationMinutes: 50,
  });
  expect(created.status).toBe(200);
  return { id, clientToken: created.body.clientToken };
}
const cancel = async (id: string) => (await fetch(appointmentUrl(id), { method: 'DELETE' })).status;
const trailActions = async (id: string) =>
  ((await (await fetch(appointmentUrl(id, '/audit'))).json()) as { records: Array<{ action: string }> }).records.map((record) => record.action);

interface Racer {
  name: string;
  /** Sets up an appointment and returns the token request to race against its cancel. */
  prepare(): Promise<{ id: string; send: () => ReturnType<typeof post>; refused: (answer: Awaited<ReturnType<typeof post>>) => boolean }>;
}

const cancelledProblem = (answer: Awaited<ReturnType<typeof post>>) =>
  answer.status === 409 && answer.body?.type === 'urn:jitsi-token-api:problem:appointment-cancelled';

const RACERS: Racer[] = [
  {
    name: 'generate-token',
    async prepare() {
      const { id } = await book();
      return {
        id,
        send: () => post(`${server.url}${ROUTES.generateToken.path}`, { appointmentId: id, userId: 'cl-c', userName: 'C' }),
        refused: cancelledProblem,
      };
    },
  },
  {
    name: 'refresh-token',
    async prepare() {
      const { id, clientToken } = await book();
      return { id, send: () => post(`${server.url}${ROUTES.refreshToken.path}`, { token: clientToken }), refused: cancelledProblem };
    },
  },
  {
    name: 'exchange-join-link',
    async prepare() {
      const { id } = await book();
      const link = await post(appointmentUrl(id, '/join-links'), '');
      return {
        id,
        send: () => post(`${server.url}${ROUTES.exchangeJoinLink.path}`, { code: link.body.code, userName: 'C' }),
        // Used, expired, cancelled and unknown codes all get the same answer.
        refused: (answer) => answer.status === 404 && answer.body?.type === 'urn:jitsi-token-api:problem:join-link-unavailable',
      };
    },
  },
];

describe('cancel wins over a token request whose store call is slow', () => {
  it.each(RACERS.map((racer) => [racer.name, racer] as const))('%s: refused after the cancel answered, whichever call was slow', async (_, racer) => {
    // The request's store calls, from an undisturbed run.
    const clean = await racer.prepare();
    const before = fake.calls.length;
    expect((await clean.send()).status).toBe(200);
    const operations = fake.calls.slice(before);
    expect(operations.at(-1)).toBe('PutItem');

    let raced = 0;
    for (const [index, operation] of operations.entries()) {
      const points: FaultPoint[] = index === operations.length - 1 ? ['before'] : ['before', 'after'];
      for (const point of points) {
        const { id, send, refused } = await racer.prepare();
        // Earlier calls of the same operation in this request pass; the index-th is held.
        const earlier = operations.slice(0, index).filter((name) => name === operation).length;
        expect(earlier, 'each request makes each kind of call once').toBe(0);
        const gate = fake.gate(operation, point);
        const pending = send();
        await gate.reached;
        expect(await cancel(id), `${racer.name}: the cancel answers while call ${index} (${operation}) is held ${point}`).toBe(200);
        gate.release();
        const answer = await pending;
        expect(refused(answer), `${racer.name}, call ${index} (${operation}) held ${point}: answered ${answer.status} ${JSON.stringify(answer.body)}`).toBe(
          true,
        );
        // Nothing was issued after the cancel: the newest record is the cancel (or a refusal counted after it).
        const actions = (await trailActions(id)).filter((action) => action !== 'refused');
        expect(actions[0], racer.name).toBe('cancelled');
        raced += 1;
      }
    }
    expect(raced).toBeGreaterThanOrEqual(3);
  });
});
