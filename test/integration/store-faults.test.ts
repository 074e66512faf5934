// The appointment store failing, through the real AWS SDK against a loopback endpoint that
// answers DynamoDB's protocol with faults: every appointment decision fails closed with 503
// store-unavailable and Retry-After, never a token without the membership check, never a 500.
// Ad-hoc rooms never touch the store, so they keep working.
import { writeFileSync, mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTable, startEmbeddedStore, type EmbeddedStore } from '../../infra/local/embedded-store.ts';
import { ROUTES } from '../../lib/routes.ts';
import { startFakeDynamoDb, type FakeDynamoDb, type StoreFault } from '../helpers/fake-dynamodb.ts';
import { apiEvent, json, lambdaContext, loadHandlers } from '../helpers/handlers.ts';

const TABLE = 'fault-appointments';
let store: EmbeddedStore;
let fake: FakeDynamoDb;
let handlers: Awaited<ReturnType<typeof loadHandlers>>;
let appointmentToken: string;
const outcomes: Array<{ fault: string; route: string; status: number; ms: number }> = [];

beforeAll(async () => {
  store = await startEmbeddedStore('memory');
  await ensureTable(store.client, TABLE);
  fake = await startFakeDynamoDb(store.client.endpoint);
  handlers = await loadHandlers({ APPOINTMENTS_TABLE: TABLE, AWS_ENDPOINT_URL_DYNAMODB: fake.endpoint });
  const created = await handlers.createRoom(
    apiEvent(ROUTES.createRoom.path, {
      appointmentId: 'faulty-1',
      therapistId: 't-1',
      clientId: 'c-1',
      scheduledStartTime: new Date(Date.now() + 600_000).toISOString(),
    }),
    lambdaContext(),
  );
  expect(created.statusCode).toBe(200);
  appointmentToken = json(created).clientToken;
});
afterAll(async () => {
  mkdirSync('test-artifacts/figures', { recursive: true });
  writeFileSync('test-artifacts/figures/store-faults.json', `${JSON.stringify(outcomes, null, 2)}\n`);
  fake.fault = 'none';
  await fake.close();
  await store.close();
});

const requests = () => ({
  'generate-token (appointment)': () =>
    handlers.generateToken(apiEvent(ROUTES.generateToken.path, { appointmentId: 'faulty-1', userId: 'c-1', userName: 'Client' }), lambdaContext()),
  'create-room': () =>
    handlers.createRoom(
      apiEvent(ROUTES.createRoom.path, {
        appointmentId: 'faulty-2',
        therapistId: 't-1',
        clientId: 'c-1',
        scheduledStartTime: new Date(Date.now() + 600_000).toISOString(),
      }),
      lambdaContext(),
    ),
  'refresh-token (appointment)': () => handlers.refreshToken(apiEvent(ROUTES.refreshToken.path, { token: appointmentToken }), lambdaContext()),
  'validate-token (appointment)': () => handlers.validateToken(apiEvent(ROUTES.validateToken.path, { token: appointmentToken }), lambdaContext()),
});

describe('the appointment store failing (real SDK, loopback DynamoDB endpoint)', () => {
  it.each<[StoreFault]>([['throttled'], ['server-error'], ['hang'], ['malformed'], ['garbled-item']])(
    'answers 503 store-unavailable with Retry-After within 2 s when the store is %s, and issues no token',
    async (fault) => {
      fake.fault = fault;
      for (const [route, send] of Object.entries(requests())) {
        const started = performance.now();
        const result = await send();
        const ms = Math.round(performance.now() - started);
        outcomes.push({ fault, route, status: result.statusCode!, ms });
        expect(ms).toBeLessThan(2_000);
        expect(result.statusCode, route).toBe(503);
        expect(result.headers?.['retry-after']).toBe('2');
        expect(json(result)).toMatchObject({ type: 'urn:jitsi-token-api:problem:store-unavailable', status: 503 });
        expect(result.body).not.toMatch(/eyJ|fake failure|Rate exceeded/);
      }
      fake.fault = 'none';
    },
  );

  it('keeps ad-hoc rooms working while the store is down: they make no store call', async () => {
    fake.fault = 'server-error';
    const before = fake.calls.length;
    const result = await handlers.generateToken(apiEvent(ROUTES.generateToken.path, { roomName: 'standup', userName: 'Team' }), lambdaContext());
    expect(result.statusCode).toBe(200);
    expect(fake.calls.length).toBe(before);
    fake.fault = 'none';
  });

  it('recovers as soon as the store answers again', async () => {
    fake.fault = 'none';
    const result = await requests()['generate-token (appointment)']();
    expect(result.statusCode).toBe(200);
  });
});
