// Jitsi's reservation API and join links over real HTTP on loopback. The calls are made exactly
// as Prosody's mod_reservations makes them: form-encoded with lowercase percent-escapes, its
// date format, a bearer key from reservations_api_headers, the 409 → GET round trip, DELETE
// when the room is destroyed. Time-dependent refusals run through the handlers with a clock.
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../infra/local/server.ts';
import { loadSettings } from '../../lib/config.ts';
import { createDeps } from '../../lib/deps.ts';
import { ROUTES } from '../../lib/routes.ts';
import { BASE_ENV, importFactory, json, lambdaContext, testDepsOptions, TEST_RESERVATIONS_KEY, withOwnTable, type Handler } from '../helpers/handlers.ts';
import { decodeJwt } from '../helpers/jwt.ts';
import { LOG_DIR } from '../helpers/log-record.ts';
import { post, startServer } from '../helpers/local-server.ts';
import { rawRequest } from '../helpers/raw-http.ts';

let server: RunningServer;
const KEY = `Bearer ${TEST_RESERVATIONS_KEY}`;
const prosodyDate = (ms: number) => new Date(ms).toISOString();
/** Lua's http.formencode: application/x-www-form-urlencoded with lowercase %xx escapes. */
const formencode = (fields: Record<string, string>) =>
  Object.entries(fields)
    .map(([name, value]) => `${name}=${encodeURIComponent(value).replace(/%[0-9A-F]{2}/g, (percent) => percent.toLowerCase())}`)
    .join('&');
const MAIL_OWNER = '5b1c2e3f-9a8b-4c7d-8e6f-0a1b2c3d4e5f@meet.example.com';

const prosody = (path: string, method: string, body?: string, headers: Record<string, string> = {}) =>
  rawRequest(`${server.url}/api/jitsi/reservations${path}`, {
    method,
    headers: {
      authorization: KEY,
      'user-agent': 'Prosody (0.12.4; Linux)',
      ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body }),
  });
const reserve = (name: string, startMs = Date.now(), headers?: Record<string, string>) =>
  prosody('/conference', 'POST', formencode({ name, start_time: prosodyDate(startMs), mail_owner: MAIL_OWNER }), headers);
const bodyOf = (response: { text: string }) => JSON.parse(response.text);

let ids = 0;
async function book(minutesAhead: number, extra: Record<string, unknown> = {}) {
  const appointmentId = `res-${++ids}`;
  const created = await post(`${server.url}${ROUTES.createRoom.path}`, {
    appointmentId,
    therapistId: 'dr-r',
    clientId: 'cl-r',
    scheduledStartTime: new Date(Date.now() + minutesAhead * 60_000).toISOString(),
    durationMinutes: 50,
    ...extra,
  });
  expect(created.status).toBe(200);
  return { appointmentId, ...created.body };
}
const audit = async (appointmentId: string) =>
  (await (await fetch(`${server.url}/api/jitsi/appointments/${appointmentId}/audit?userId=dr-r`)).json()) as {
    records: Array<{ action: string; note?: string; actor: string }>;
  };

beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

describe('the reservation API as Prosody calls it', () => {
  it('refuses calls without the key, or with a wrong one (401), before looking at anything', async () => {
    expect((await reserve('room-x', Date.now(), { authorization: '' })).status).toBe(401);
    expect((await reserve('room-x', Date.now(), { authorization: 'Bearer not-the-key-not-the-key-not-the-key-0000' })).status).toBe(401);
    expect((await reserve('room-x', Date.now(), { authorization: `Basic ${Buffer.from(`x:${TEST_RESERVATIONS_KEY}`).toString('base64')}` })).status).toBe(401);
    const refused = await prosody('/conference/room-x', 'DELETE', undefined, { authorization: KEY.toLowerCase() });
    expect(refused.status).toBe(401);
    expect(bodyOf(refused).message).toMatch(/reservation API key/);
  });

  it("lets an appointment's room live exactly until its window closes, with the lobby on", async () => {
    const booked = await book(5);
    const start = Date.now();
    const opened = await reserve(booked.roomName, start);
    expect(opened.status).toBe(200);
    const answer = bodyOf(opened);
    expect(answer).toEqual({
      id: booked.roomName,
      name: booked.roomName,
      mail_owner: MAIL_OWNER,
      start_time: prosodyDate(Math.floor(start / 1000) * 1000),
      duration: expect.any(Number),
      lobby: true,
    });
    // Prosody destroys the room at start_time + duration: the appointment's end + grace.
    expect(Date.parse(answer.start_time) / 1000 + answer.duration).toBe(Date.parse(booked.expiresAt) / 1000);
    expect(typeof answer.id).toBe('string');
  });

  it('answers another POST for an open room with 409 and the id, and the GET round trip with the same reservation', async () => {
    const booked = await book(0);
    const start = Date.now() - 5_000;
    const first = bodyOf(await reserve(booked.roomName, start));
    const again = await reserve(booked.roomName, start + 5_000);
    expect(again.status).toBe(409);
    expect(bodyOf(again)).toEqual({ conflict_id: first.id });
    const fetched = await prosody(`/conference/${bodyOf(again).conflict_id}`, 'GET');
    expect(fetched.status).toBe(200);
    // Everything but the creator's address, which is never stored (only its domain).
    expect(bodyOf(fetched)).toEqual({ ...first, mail_owner: `owner@${MAIL_OWNER.split('@')[1]}` });
  });

  it("never reopens a cancelled appointment's room, not even for a retry of the POST that opened it", async () => {
    const booked = await book(0);
    const start = Date.now();
    expect((await reserve(booked.roomName, start)).status).toBe(200);
    await fetch(`${server.url}/api/jitsi/appointments/${booked.appointmentId}?userId=dr-r`, { method: 'DELETE' });
    const retried = await reserve(booked.roomName, start);
    expect(retried.status).toBe(403);
    expect(bodyOf(retried).message).toBe('This session was cancelled.');
  });

  it("answers Prosody's retry of the same POST (same body) with the same reservation, recorded once", async () => {
    const booked = await book(0);
    const start = Date.now();
    const first = await reserve(booked.roomName, start);
    const retry = await reserve(booked.roomName, start);
    expect(retry.status).toBe(200);
    expect(bodyOf(retry)).toEqual(bodyOf(first));
    const opened = (await audit(booked.appointmentId)).records.filter((record) => record.action === 'room-opened');
    expect(opened).toHaveLength(1);
  });

  it('records the room opening and closing (with how long it was open) and forgets it on DELETE', async () => {
    const booked = await book(0);
    await reserve(booked.roomName);
    const closed = await prosody(`/conference/${booked.roomName}`, 'DELETE');
    expect(closed.status).toBe(200);
    expect(bodyOf(closed)).toMatchObject({ id: booked.roomName, openSeconds: expect.any(Number) });
    // The next join asks again, and gets a fresh reservation.
    expect((await reserve(booked.roomName)).status).toBe(200);
    const actions = (await audit(booked.appointmentId)).records.filter((record) => record.actor === 'prosody').map((record) => record.action);
    expect(actions).toEqual(['room-opened', 'room-closed', 'room-opened']);
    expect((await audit(booked.appointmentId)).records.find((record) => record.action === 'room-closed')?.note).toMatch(/^open \d+ s$/);
  });

  it('refuses a room before its window and after a cancel, in words a person understands', async () => {
    const later = await book(24 * 60 + 90);
    const early = await reserve(later.roomName);
    expect(early.status).toBe(403);
    expect(bodyOf(early).message).toMatch(/^This session starts at \d\d:\d\d UTC on \d{4}-\d\d-\d\d; the room opens at \d\d:\d\d UTC\.$/);
    const now = await book(0);
    await fetch(`${server.url}/api/jitsi/appointments/${now.appointmentId}?userId=dr-r`, { method: 'DELETE' });
    const cancelled = await reserve(now.roomName);
    expect(cancelled.status).toBe(403);
    expect(bodyOf(cancelled).message).toBe('This session was cancelled.');
    expect((await audit(now.appointmentId)).records.find((record) => record.action === 'refused')).toMatchObject({
      actor: 'prosody',
      note: 'room_cancelled',
      count: 1,
    });
    for (const text of [early.text, cancelled.text]) expect(text).not.toMatch(/cl-r|dr-r|Client|Therapist/);
  });

  it("handles the name Prosody sends for /tenant/room URLs, and only for the appointment's own tenant", async () => {
    const booked = await book(0, { tenant: 'acme' });
    const opened = await reserve(`[acme]${booked.roomName}`);
    expect(opened.status).toBe(200);
    expect(bodyOf(opened)).toMatchObject({ id: `acme~${booked.roomName}`, name: `[acme]${booked.roomName}` });
    expect((await prosody(`/conference/acme~${booked.roomName}`, 'GET')).status).toBe(200);
    expect((await reserve(`[other]${booked.roomName}`)).status).toBe(403);
    expect((await reserve(booked.roomName)).status).toBe(403);
  });

  it('allows an unknown (ad-hoc) room for the maximum duration, and refuses an appointment-prefixed name no appointment has', async () => {
    const adhoc = bodyOf(await reserve('team-standup'));
    expect(adhoc.duration).toBe(720 * 60);
    expect(adhoc.lobby).toBeUndefined();
    expect((await reserve(`appt-${'b'.repeat(26)}`)).status).toBe(403);
  });

  it.each([
    ['an empty body', '', 'application/x-www-form-urlencoded', 400],
    ['a JSON body by mistake', JSON.stringify({ name: 'room-1', start_time: prosodyDate(Date.now()), mail_owner: MAIL_OWNER }), 'application/json', 415],
    ['a missing mail_owner', formencode({ name: 'room-1', start_time: prosodyDate(Date.now()) }), 'application/x-www-form-urlencoded', 400],
    [
      'an unparsable start_time',
      formencode({ name: 'room-1', start_time: 'Tue, 25 Nov 2026 10:00:00 GMT', mail_owner: MAIL_OWNER }),
      'application/x-www-form-urlencoded',
      400,
    ],
    [
      'a name that is no room',
      formencode({ name: '../etc', start_time: prosodyDate(Date.now()), mail_owner: MAIL_OWNER }),
      'application/x-www-form-urlencoded',
      400,
    ],
    [
      'a field twice',
      `${formencode({ name: 'room-1', start_time: prosodyDate(Date.now()), mail_owner: MAIL_OWNER })}&name=room-2`,
      'application/x-www-form-urlencoded',
      400,
    ],
    ['a huge body', `name=${'a'.repeat(10_000)}`, 'application/x-www-form-urlencoded', 413],
  ])('answers %s with a 4xx and a message, never a 5xx', async (_, body, contentType, status) => {
    const response = await prosody('/conference', 'POST', body, { 'content-type': contentType });
    expect(response.status).toBe(status);
    expect(typeof bodyOf(response).message).toBe('string');
  });

  it('answers a GET or DELETE for an unknown id with 404 and a message', async () => {
    for (const method of ['GET', 'DELETE']) {
      const response = await prosody('/conference/never-opened', method);
      expect(response.status).toBe(404);
      expect(bodyOf(response).message).toBe('No such conference.');
    }
  });
});

describe('the room ends when the appointment ends (through the handlers, with a clock)', () => {
  it('refuses a room once the window has closed, and GET on a room opened before a cancel', async () => {
    let now = Math.floor(Date.now() / 1000);
    const env = withOwnTable({ ...BASE_ENV });
    const deps = createDeps(loadSettings(env), { ...(await testDepsOptions(env)), clock: { nowSeconds: () => now } });
    const handler = async (route: (typeof ROUTES)[keyof typeof ROUTES]) => (await importFactory(route))(deps as never) as unknown as Handler;
    const [createRoom, reserveRoom, getReservation, cancel] = await Promise.all([
      handler(ROUTES.createRoom),
      handler(ROUTES.reservationCreate),
      handler(ROUTES.reservationGet),
      handler(ROUTES.cancelAppointment),
    ]);
    const event = (method: string, path: string, body: string | undefined, extra: Record<string, unknown> = {}) =>
      ({
        headers: {
          authorization: KEY,
          ...(body ? { 'content-type': method === 'POST' && !body.startsWith('{') ? 'application/x-www-form-urlencoded' : 'application/json' } : {}),
        },
        requestContext: { requestId: `clock-${path}-${now}`, http: { method } },
        body,
        isBase64Encoded: false,
        ...extra,
      }) as never;
    const room = json(
      await createRoom(
        event(
          'POST',
          'create',
          JSON.stringify({
            appointmentId: 'clocked',
            therapistId: 't',
            clientId: 'c',
            scheduledStartTime: new Date(now * 1000 + 60_000).toISOString(),
            durationMinutes: 30,
          }),
        ),
        lambdaContext(),
      ),
    ).roomName;
    const form = () => formencode({ name: room, start_time: prosodyDate(now * 1000), mail_owner: MAIL_OWNER });
    expect((await reserveRoom(event('POST', 'open', form()), lambdaContext())).statusCode).toBe(200);
    await cancel(
      event('DELETE', 'cancel', undefined, { pathParameters: { appointmentId: 'clocked' }, queryStringParameters: { userId: 't' } }),
      lambdaContext(),
    );
    const afterCancel = await getReservation(event('GET', 'get', undefined, { pathParameters: { id: room } }), lambdaContext());
    expect(afterCancel.statusCode).toBe(403);
    expect(json(afterCancel).message).toBe('This session was cancelled.');

    const other = json(
      await createRoom(
        event(
          'POST',
          'create2',
          JSON.stringify({
            appointmentId: 'clocked-2',
            therapistId: 't',
            clientId: 'c',
            scheduledStartTime: new Date(now * 1000).toISOString(),
            durationMinutes: 30,
          }),
        ),
        lambdaContext(),
      ),
    ).roomName;
    now += 46 * 60; // past the end + 15 minutes of grace
    const ended = await reserveRoom(
      event('POST', 'late', formencode({ name: other, start_time: prosodyDate(now * 1000), mail_owner: MAIL_OWNER })),
      lambdaContext(),
    );
    expect(ended.statusCode).toBe(403);
    expect(json(ended).message).toBe('This session has ended.');
  });
});

describe('join links', () => {
  const createLink = (appointmentId: string, userId = 'dr-r') => post(`${server.url}/api/jitsi/appointments/${appointmentId}/join-links?userId=${userId}`, '');
  const exchange = (code: string, userName = 'Robin') => post(`${server.url}${ROUTES.exchangeJoinLink.path}`, { code, userName });

  it("exchanges a code once for the client's token and a ready Jitsi URL; the code is never stored or logged", async () => {
    const booked = await book(5);
    const link = await createLink(booked.appointmentId);
    expect(link.status).toBe(201);
    expect(link.body.code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const first = await exchange(link.body.code);
    expect(first.status).toBe(200);
    const claims = decodeJwt(first.body.token).payload;
    expect(claims).toMatchObject({ room: booked.roomName, moderator: false, context: { user: { id: 'cl-r', name: 'Robin' } } });
    expect(claims.exp).toBe(Date.parse(booked.expiresAt) / 1000);
    expect(first.body.jitsiUrl).toBe(`${booked.joinUrl}#jwt=${first.body.token}`);
    // The same request again (a retry after a lost answer) gets the same token, not a second one.
    const retried = await exchange(link.body.code);
    expect(retried.status).toBe(200);
    expect(retried.body.token).toBe(first.body.token);
    // Anyone else with the code finds it used.
    const second = await exchange(link.body.code, 'Mallory');
    const unknown = await exchange('A'.repeat(43));
    expect(second.status).toBe(404);
    expect({ ...second.body, requestId: 'x' }).toEqual({ ...unknown.body, requestId: 'x' });
    const actions = (await audit(booked.appointmentId)).records.map((record) => record.action);
    expect(actions).toEqual(expect.arrayContaining(['join-link-created', 'join-link-used']));
    const logs = readdirSync(LOG_DIR)
      .map((file) => readFileSync(`${LOG_DIR}/${file}`, 'utf8'))
      .join('');
    expect(logs).not.toContain(link.body.code);
  });

  it('gives exactly one token to 40 parallel exchanges of the same code by different people', async () => {
    const booked = await book(5);
    const { code } = (await createLink(booked.appointmentId)).body;
    const results = await Promise.all(Array.from({ length: 40 }, (_, index) => exchange(code, `Person ${index}`)));
    expect(results.filter((result) => result.status === 200)).toHaveLength(1);
    expect(results.filter((result) => result.status === 404)).toHaveLength(39);
    const issued = (await audit(booked.appointmentId)).records.filter((record) => record.action === 'join-link-used');
    expect(issued).toHaveLength(1);
  });

  it('gives 40 parallel copies of the same exchange one token between them, recorded once', async () => {
    const booked = await book(5);
    const { code } = (await createLink(booked.appointmentId)).body;
    const results = await Promise.all(Array.from({ length: 40 }, () => exchange(code)));
    expect(results.every((result) => result.status === 200)).toBe(true);
    expect(new Set(results.map((result) => result.body.token)).size).toBe(1);
    const records = (await audit(booked.appointmentId)).records.map((record) => record.action);
    expect(records.filter((action) => action === 'join-link-used')).toHaveLength(1);
    expect(records.filter((action) => action === 'token-issued')).toHaveLength(3);
  });

  it('never works after a cancel, and only the therapist can make one', async () => {
    const booked = await book(5);
    const { code } = (await createLink(booked.appointmentId)).body;
    expect((await createLink(booked.appointmentId, 'cl-r')).status).toBe(403);
    expect((await createLink(booked.appointmentId, 'stranger')).status).toBe(403);
    await fetch(`${server.url}/api/jitsi/appointments/${booked.appointmentId}?userId=dr-r`, { method: 'DELETE' });
    expect((await exchange(code)).status).toBe(404);
    expect((await createLink(booked.appointmentId)).status).toBe(409);
  });
});
