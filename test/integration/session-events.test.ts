// The session as it happens, over real HTTP: Prosody's event sync component posts its exact
// payloads (mod_event_sync_component.lua's shapes: room created/destroyed, occupant joined/left,
// with the token's context.user id, name and email), including retries, duplicates and
// out-of-order deliveries; the attendance is read back; the platform events arrive at a loopback
// webhook receiver, signed (verified with the standardwebhooks package); Prosody's end-meeting
// endpoint is a loopback stand-in that checks the URL, the room address and the token. The clock
// is the test's, so a window can close. No name or email may reach the store, the logs or the events.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalDeps, type LocalDeps } from '../../infra/local/deps.ts';
import { startLocalServer, type RunningServer } from '../../infra/local/server.ts';
import { loadLocalSettings } from '../../lib/config.ts';
import { settleDueOutcomes } from '../../lib/jitsi-events.ts';
import { ROUTES } from '../../lib/routes.ts';
import { newWebhookSecret } from '../../lib/webhooks.ts';
import { BASE_ENV, TEST_APP_SECRET, TEST_EVENTS_KEY, testDepsOptions, withOwnTable } from '../helpers/handlers.ts';
import jwt from 'jsonwebtoken';
import { post } from '../helpers/local-server.ts';

const WEBHOOK_SECRET = newWebhookSecret();
const PEOPLE = {
  therapist: { id: 'th-1', name: 'Harriet Therapist', email: 'harriet@clinic.example' },
  client: { id: 'cl-1', name: 'Oscar Client', email: 'oscar@mail.example' },
};
const MUC = 'conference.meet.example.test';

let now = Math.floor(Date.now() / 1000);
let server: RunningServer;
let deps: LocalDeps;
let table: string;
const received: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
const endCalls: Array<{ url: string; authorization: string | undefined }> = [];
let endStatus = 200;
const listeners: Server[] = [];

async function listen(handler: (request: IncomingMessage, body: string) => number): Promise<string> {
  const listener = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      response.writeHead(handler(request, Buffer.concat(chunks).toString('utf8')), { 'content-type': 'application/json' });
      response.end('{}');
    });
  });
  await new Promise<void>((done) => listener.listen(0, '127.0.0.1', done));
  listeners.push(listener);
  return `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  const webhookUrl = await listen((request, body) => {
    received.push({ headers: request.headers, body });
    return 204;
  });
  const endMeetingUrl = await listen((request) => {
    endCalls.push({ url: request.url ?? '', authorization: request.headers.authorization });
    return endStatus;
  });
  const env = withOwnTable({
    ...BASE_ENV,
    WEBHOOK_URL: `${webhookUrl}/hooks`,
    WEBHOOK_SECRET,
    END_MEETING_URL: `${endMeetingUrl}/end-meeting`,
    END_MEETING_ATTEMPTS: '2',
  });
  table = env.APPOINTMENTS_TABLE!;
  deps = createLocalDeps(loadLocalSettings(env), { ...(await testDepsOptions(env)), clock: { nowSeconds: () => now } });
  server = await startLocalServer({ deps, port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await deps?.publisher.settled();
  await server?.close();
  for (const listener of listeners) await new Promise((done) => listener.close(done));
});

let ids = 0;
async function book(minutesAhead = 5, durationMinutes = 50) {
  const appointmentId = `session-${++ids}`;
  const created = await post(`${server.url}${ROUTES.createRoom.path}`, {
    appointmentId,
    therapistId: PEOPLE.therapist.id,
    clientId: PEOPLE.client.id,
    therapistName: PEOPLE.therapist.name,
    clientName: PEOPLE.client.name,
    scheduledStartTime: new Date((now + minutesAhead * 60) * 1000).toISOString(),
    durationMinutes,
  });
  expect(created.status).toBe(200);
  return { appointmentId, room: created.body.roomName as string, closesAt: Date.parse(created.body.expiresAt) / 1000 };
}

/** What Prosody's event sync component posts (its Lua payloads), with its api_headers key. */
const sync = (path: string, body: Record<string, unknown>, key = TEST_EVENTS_KEY) =>
  post(`${server.url}/api/jitsi/events/${path}`, body, { authorization: `Bearer ${key}` });
const roomFields = (room: string) => ({ room_name: room, room_jid: `${room}@${MUC}`, is_breakout: false });
const occupant = (room: string, who: { id: string; name: string; email: string }, nick: string, joinedAt: number, leftAt?: number) => ({
  occupant_jid: `${room}@${MUC}/${nick}`,
  joined_at: joinedAt,
  ...(leftAt === undefined ? {} : { left_at: leftAt }),
  name: who.name,
  id: who.id,
  email: who.email,
});
type Occupant = Omit<ReturnType<typeof occupant>, 'id'> & { id?: string };
const joined = (room: string, person: Occupant) =>
  sync('occupant/joined', { ...roomFields(room), event_name: 'muc-occupant-joined', occupant: person, active_occupants_count: 1 });
const left = (room: string, person: Occupant) =>
  sync('occupant/left', { ...roomFields(room), event_name: 'muc-occupant-left', occupant: person, active_occupants_count: 0 });
const attendance = async (appointmentId: string, asker = PEOPLE.therapist.id) =>
  (await fetch(`${server.url}/api/jitsi/appointments/${appointmentId}/attendance?userId=${asker}`)).json() as Promise<any>;
const trail = async (appointmentId: string) =>
  ((await (await fetch(`${server.url}/api/jitsi/appointments/${appointmentId}/audit?userId=${PEOPLE.therapist.id}`)).json()) as any).records as Array<{
    action: string;
    actor: string;
    note?: string;
  }>;
const eventsFor = (appointmentId: string) =>
  received.map((delivery) => JSON.parse(delivery.body)).filter((event) => event.data.appointmentId === appointmentId) as Array<{ type: string; data: any }>;

describe("Prosody's events make the attendance", () => {
  it('records a completed session through retries, duplicates and out-of-order delivery, and tells the platform', async () => {
    const { appointmentId, room, closesAt } = await book();
    const t0 = now;
    const therapist = occupant(room, PEOPLE.therapist, 'aa11', t0);
    const client = occupant(room, PEOPLE.client, 'bb22', t0 + 60);
    expect((await sync('room/created', { ...roomFields(room), event_name: 'muc-room-created', created_at: t0 })).status).toBe(200);
    expect((await joined(room, therapist)).body).toEqual({ received: true, appointment: true });
    // The client's leave arrives before its join; then both again (Prosody retries on a 5xx or a refused connection).
    await left(room, { ...client, left_at: t0 + 1_860 });
    await joined(room, client);
    await joined(room, client);
    await left(room, { ...client, left_at: t0 + 1_860 });
    await left(room, { ...therapist, left_at: t0 + 1_900 });
    const destroyed = { ...roomFields(room), event_name: 'muc-room-destroyed', created_at: t0, destroyed_at: t0 + 1_910 };
    const everyone = [
      { ...therapist, left_at: t0 + 1_900 },
      { ...client, left_at: t0 + 1_860 },
    ];
    expect((await sync('room/destroyed', { ...destroyed, all_occupants: everyone })).status).toBe(200);
    expect((await sync('room/destroyed', { ...destroyed, all_occupants: everyone })).status).toBe(200);

    // Nothing is told while the window is open: they could come back.
    await deps.publisher.settled();
    expect(eventsFor(appointmentId).map((event) => event.type)).not.toContain('session.completed');
    const during = await attendance(appointmentId, PEOPLE.client.id);
    expect(during).toMatchObject({
      status: 'in-progress',
      therapist: { joined: true, present: false, minutesPresent: 31.7, firstJoinAt: new Date(t0 * 1000).toISOString() },
      client: { joined: true, present: false, minutesPresent: 30, lastLeaveAt: new Date((t0 + 1_860) * 1000).toISOString() },
      bothPresentMinutes: 30,
      others: [],
    });
    now = closesAt + 1;
    expect((await attendance(appointmentId)).status).toBe('completed');
    await settleDueOutcomes(deps);

    // The trail: each join and leave once, and the outcome.
    const actions = (await trail(appointmentId)).map((record) => record.action);
    expect(actions.filter((action) => action === 'participant-joined')).toHaveLength(2);
    expect(actions.filter((action) => action === 'participant-left')).toHaveLength(2);
    expect(actions.filter((action) => action === 'session-completed')).toHaveLength(1);

    await deps.publisher.settled();
    const types = eventsFor(appointmentId).map((event) => event.type);
    expect(types.filter((type) => type === 'participant.joined')).toHaveLength(2);
    expect(types.filter((type) => type === 'participant.left')).toHaveLength(2);
    expect(types).toEqual(expect.arrayContaining(['appointment.created', 'token.issued', 'session.completed']));
    const completed = eventsFor(appointmentId).filter((event) => event.type === 'session.completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]!.data).toMatchObject({
      appointmentId,
      bothPresentMinutes: 30,
      therapist: { joined: true, minutesPresent: 31.7 },
      client: { joined: true, minutesPresent: 30 },
    });
    now = t0;
  });

  it('tells a client no-show once the window has closed, and flags an id the appointment does not name', async () => {
    const { appointmentId, room, closesAt } = await book(0, 30);
    const t0 = now;
    await sync('room/created', { ...roomFields(room), event_name: 'muc-room-created', created_at: t0 });
    const therapist = occupant(room, PEOPLE.therapist, 'cc33', t0);
    const guest = occupant(room, { id: 'someone-else', name: 'Uninvited Guest', email: 'guest@else.example' }, 'dd44', t0 + 30);
    // A token without an id: Prosody still sends its name and email.
    const { id: _, ...anonymous } = occupant(room, { id: '', name: 'Uninvited Guest', email: 'anon@else.example' }, 'ii99', t0 + 40);
    await joined(room, therapist);
    await joined(room, guest);
    await joined(room, anonymous);
    await left(room, { ...guest, left_at: t0 + 90 });
    await left(room, { ...anonymous, left_at: t0 + 100 });
    await left(room, { ...therapist, left_at: t0 + 1_200 });
    // The room is destroyed before the window closes: the client could still come.
    await sync('room/destroyed', { ...roomFields(room), event_name: 'muc-room-destroyed', created_at: t0, destroyed_at: t0 + 1_210, all_occupants: [] });
    expect((await attendance(appointmentId)).status).toBe('in-progress');
    now = closesAt + 60;
    expect(await settleDueOutcomes(deps)).toBeGreaterThanOrEqual(1);
    const after = await attendance(appointmentId);
    expect(after).toMatchObject({ status: 'client-no-show', client: { joined: false, minutesPresent: 0 } });
    expect(after.others).toEqual([
      expect.objectContaining({ userId: 'someone-else', flagged: true, minutesPresent: 1 }),
      expect.objectContaining({ userId: null, flagged: true, minutesPresent: 1 }),
    ]);
    expect((await trail(appointmentId)).find((record) => record.action === 'participant-joined' && record.actor === 'someone-else')?.note).toBe('unexpected');
    await deps.publisher.settled();
    const noShow = eventsFor(appointmentId).find((event) => event.type === 'session.no-show');
    expect(noShow?.data).toMatchObject({ appointmentId, status: 'client-no-show' });
    // Decided once: a late room/created queues it again, and the sweep tells the same outcome under the same id.
    await sync('room/created', { ...roomFields(room), event_name: 'muc-room-created', created_at: t0 });
    await settleDueOutcomes(deps);
    await deps.publisher.settled();
    const told = received.filter(
      (delivery) => JSON.parse(delivery.body).type === 'session.no-show' && JSON.parse(delivery.body).data.appointmentId === appointmentId,
    );
    expect(new Set(told.map((delivery) => delivery.headers['webhook-id'])).size).toBe(1);
    expect((await trail(appointmentId)).filter((record) => record.action === 'session-no-show')).toHaveLength(1);
    // The client sees that someone else came, not who.
    expect((await attendance(appointmentId, PEOPLE.client.id)).others.map((other: { userId: string | null }) => other.userId)).toEqual([null, null]);
    now = Math.floor(Date.now() / 1000);
  });

  it('tells a therapist no-show when nobody came at all (no event from Prosody)', async () => {
    const { appointmentId, closesAt } = await book(0, 15);
    now = closesAt + 60;
    await settleDueOutcomes(deps);
    expect((await attendance(appointmentId)).status).toBe('therapist-no-show');
    await deps.publisher.settled();
    expect(eventsFor(appointmentId).find((event) => event.type === 'session.no-show')?.data.status).toBe('therapist-no-show');
    now = Math.floor(Date.now() / 1000);
  });

  it('counts an ad-hoc room without storing anyone, and refuses a wrong key or a malformed payload', async () => {
    const guest = occupant('team-standup', PEOPLE.client, 'ee55', now);
    expect((await joined('team-standup', guest)).body).toEqual({ received: true, appointment: false });
    expect(
      (
        await sync(
          'occupant/joined',
          { ...roomFields('team-standup'), event_name: 'muc-occupant-joined', occupant: guest },
          'wrong-key-wrong-key-wrong-key-wrong-key',
        )
      ).status,
    ).toBe(401);
    const bad = await sync('occupant/joined', {
      ...roomFields('team-standup'),
      event_name: 'muc-occupant-joined',
      occupant: { ...guest, joined_at: 'yesterday' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('occupant.joined_at');
    expect(bad.text).not.toContain(PEOPLE.client.name);
  });
});

describe('ending the meeting', () => {
  const cancel = (appointmentId: string) => fetch(`${server.url}/api/jitsi/appointments/${appointmentId}?userId=${PEOPLE.therapist.id}`, { method: 'DELETE' });

  it("ends a session in progress when it is cancelled, with a one-minute token for the room's address, and records it", async () => {
    const { appointmentId, room } = await book();
    await joined(room, occupant(room, PEOPLE.client, 'ff66', now));
    const calls = endCalls.length;
    const cancelled = await cancel(appointmentId);
    expect(cancelled.status).toBe(200);
    await deps.publisher.settled();
    expect(endCalls.length).toBe(calls + 1);
    const call = endCalls.at(-1)!;
    expect(new URL(call.url, 'http://x').pathname).toBe('/end-meeting');
    expect(new URL(call.url, 'http://x').searchParams.get('conference')).toBe(`${room}@${MUC}`);
    const claims = jwt.verify(call.authorization!.replace(/^Bearer /, ''), TEST_APP_SECRET, { algorithms: ['HS256'] }) as jwt.JwtPayload;
    // Not the session's room, and no moderator: captured, the token opens nothing (Prosody does not compare it with the meeting).
    expect(claims).toMatchObject({ room: 'jitsi-token-api-end-meeting', iss: 'test-app', aud: 'test-app', moderator: false });
    expect(claims.exp! - claims.iat!).toBe(60);
    expect((await trail(appointmentId)).find((record) => record.action === 'meeting-ended')?.note).toBe('cancelled: ended');
  });

  it('never lets a failing endpoint fail the cancel: tried END_MEETING_ATTEMPTS times, recorded as failed', async () => {
    const { appointmentId, room } = await book();
    await joined(room, occupant(room, PEOPLE.client, 'gg77', now));
    endStatus = 500;
    const calls = endCalls.length;
    expect((await cancel(appointmentId)).status).toBe(200);
    await deps.publisher.settled();
    endStatus = 200;
    expect(endCalls.length).toBe(calls + 2);
    expect((await trail(appointmentId)).find((record) => record.action === 'meeting-end-failed')?.note).toMatch(
      /^cancelled: failed after 2 attempts \(last status 500\)$/,
    );
  });

  it('does not call Jitsi for a room nobody is in, and lets the therapist end a running meeting', async () => {
    const quiet = await book();
    const calls = endCalls.length;
    expect((await cancel(quiet.appointmentId)).status).toBe(200);
    await deps.publisher.settled();
    expect(endCalls.length).toBe(calls);

    const running = await book();
    await joined(running.room, occupant(running.room, PEOPLE.therapist, 'hh88', now));
    const ended = await post(`${server.url}/api/jitsi/appointments/${running.appointmentId}/end?userId=${PEOPLE.therapist.id}`, '');
    expect(ended.status).toBe(200);
    expect(ended.body).toEqual({ appointmentId: running.appointmentId, outcome: 'ended', attempts: 1 });
    const byClient = await post(`${server.url}/api/jitsi/appointments/${running.appointmentId}/end?userId=${PEOPLE.client.id}`, '');
    expect(byClient.status).toBe(403);
  });
});

describe('no name or email anywhere', () => {
  it('keeps them out of the store and the platform events, and every webhook verifies', async () => {
    const { DynamoDBClient, ScanCommand } = await import('@aws-sdk/client-dynamodb');
    const options = await testDepsOptions({ APPOINTMENTS_TABLE: table });
    const client = new DynamoDBClient(options.storeClient!);
    const items = JSON.stringify((await client.send(new ScanCommand({ TableName: table }))).Items);
    client.destroy();
    await deps.publisher.settled();
    const bodies = received.map((delivery) => delivery.body).join('\n');
    for (const text of [items, bodies]) {
      for (const person of [PEOPLE.therapist, PEOPLE.client]) {
        expect(text).not.toContain(person.name);
        expect(text).not.toContain(person.email);
      }
      expect(text).not.toContain('Uninvited Guest');
      expect(text).not.toMatch(/@[a-z]+\.example/);
    }
    const webhook = new Webhook(WEBHOOK_SECRET);
    expect(received.length).toBeGreaterThan(10);
    for (const delivery of received) {
      expect(() => webhook.verify(delivery.body, delivery.headers as Record<string, string>)).not.toThrow();
    }
  });
});
