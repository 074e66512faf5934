// Appointments as therapists and clients would use them, over real HTTP on loopback with caller
// tokens from a loopback OIDC issuer (AUTH_MODE=jwt), the store an embedded dynalite reached
// through the real AWS SDK. Each scenario the appointments issue names is refused here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../infra/local/auth.ts';
import type { RunningServer } from '../../infra/local/server.ts';
import { ROUTES } from '../../lib/routes.ts';
import { decodeJwt } from '../helpers/jwt.ts';
import { post, startServer } from '../helpers/local-server.ts';
import { startOidcIssuer, type OidcIssuer } from '../helpers/oidc-issuer.ts';

let issuer: OidcIssuer;
let server: RunningServer;
const bearer: Record<string, string> = {};
const PEOPLE = {
  therapistA: { sub: 'therapist-a', name: 'Dr. Ada Therapist', 'cognito:groups': ['therapists'] },
  therapistB: { sub: 'therapist-b', name: 'Dr. Bo Other', 'cognito:groups': ['therapists'] },
  client: { sub: 'client-c', name: 'Casey Client' },
  stranger: { sub: 'stranger-s', name: 'Sam Stranger' },
} as const;
type Person = keyof typeof PEOPLE;

beforeAll(async () => {
  issuer = await startOidcIssuer();
  const env = { AUTH_MODE: 'jwt', AUTH_ISSUER: issuer.issuer, AUTH_AUDIENCE: 'test-client', MODERATOR_VALUES: 'therapists' };
  server = await startServer(env, createAuthenticator({ authIssuer: issuer.issuer, authAudience: 'test-client' }));
  for (const [who, claims] of Object.entries(PEOPLE)) bearer[who] = `Bearer ${await issuer.sign(claims)}`;
});
afterAll(async () => {
  await server.close();
  await issuer.close();
});

const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();
let ids = 0;
const newAppointmentId = () => `-7-0-${Date.now()}-${++ids}`.replace(/^-/, 'a-');

const as = (who: Person) => ({ authorization: bearer[who]! });
const createRoom = (who: Person, body: Record<string, unknown>) => post(`${server.url}${ROUTES.createRoom.path}`, body, as(who));
const generate = (who: Person, body: Record<string, unknown>) => post(`${server.url}${ROUTES.generateToken.path}`, body, as(who));
const refresh = (who: Person, token: string) => post(`${server.url}${ROUTES.refreshToken.path}`, { token }, as(who));
const validate = (who: Person, token: string) => post(`${server.url}${ROUTES.validateToken.path}`, { token }, as(who));
async function resource(who: Person, method: string, appointmentId: string, suffix = '', body?: unknown) {
  const response = await fetch(`${server.url}/api/jitsi/appointments/${encodeURIComponent(appointmentId)}${suffix}`, {
    method,
    headers: { ...as(who), ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as any, headers: response.headers };
}

async function book(minutesAhead = 10, durationMinutes = 50) {
  const appointmentId = newAppointmentId();
  const created = await createRoom('therapistA', { appointmentId, clientId: PEOPLE.client.sub, scheduledStartTime: inMinutes(minutesAhead), durationMinutes });
  expect(created.status).toBe(200);
  return { appointmentId, ...created.body };
}

describe('create-room registers the appointment', () => {
  it('gives the same therapist the same random room again; another therapist gets 403 and nothing about it', async () => {
    const booked = await book();
    expect(booked.roomName).toMatch(/^appt-[a-z2-7]{26}$/);
    expect(booked.roomName).not.toContain(booked.appointmentId);
    const again = await createRoom('therapistA', {
      appointmentId: booked.appointmentId,
      clientId: PEOPLE.client.sub,
      scheduledStartTime: inMinutes(10),
      durationMinutes: 50,
    });
    expect(again.body.roomName).toBe(booked.roomName);

    const other = await createRoom('therapistB', { appointmentId: booked.appointmentId, clientId: PEOPLE.client.sub, scheduledStartTime: inMinutes(10) });
    expect(other.status).toBe(403);
    expect(other.text).not.toContain(booked.roomName);
    expect(other.text).not.toContain(PEOPLE.client.sub);
    expect(other.text).not.toContain(PEOPLE.therapistA.sub);
  });

  it('binds the client token to the stored client: another clientId for the same appointment is refused', async () => {
    const booked = await book();
    expect(decodeJwt(booked.clientToken).payload.context.user.id).toBe(PEOPLE.client.sub);
    const swapped = await createRoom('therapistA', {
      appointmentId: booked.appointmentId,
      clientId: 'someone-else',
      scheduledStartTime: inMinutes(10),
      durationMinutes: 50,
    });
    expect(swapped.status).toBe(409);
    expect(swapped.body).toMatchObject({ type: 'urn:jitsi-token-api:problem:appointment-conflict', field: 'clientId' });
  });

  it('makes one appointment from many concurrent first calls', async () => {
    const appointmentId = newAppointmentId();
    const body = { appointmentId, clientId: PEOPLE.client.sub, scheduledStartTime: inMinutes(30), durationMinutes: 45 };
    const results = await Promise.all(Array.from({ length: 12 }, () => createRoom('therapistA', body)));
    expect(results.map((result) => result.status)).toEqual(Array(12).fill(200));
    expect(new Set(results.map((result) => result.body.roomName)).size).toBe(1);
    const trail = await resource('therapistA', 'GET', appointmentId, '/audit');
    expect(trail.body.records.filter((record: { action: string }) => record.action === 'created')).toHaveLength(1);
  });

  it('answers an appointment that has already ended with its own problem type', async () => {
    const ended = await createRoom('therapistA', {
      appointmentId: newAppointmentId(),
      clientId: PEOPLE.client.sub,
      scheduledStartTime: inMinutes(-120),
      durationMinutes: 30,
    });
    expect(ended.status).toBe(409);
    expect(ended.body).toMatchObject({ type: 'urn:jitsi-token-api:problem:appointment-ended', field: 'scheduledStartTime' });
  });
});

describe('members fetch their own token; appointment rooms are closed to strangers', () => {
  it('gives the client a participant token and the therapist a moderator token, room and window from the store', async () => {
    const booked = await book(5, 30);
    const client = await generate('client', { appointmentId: booked.appointmentId });
    expect(client.status).toBe(200);
    const claims = decodeJwt(client.body.token).payload;
    expect(claims).toMatchObject({
      room: booked.roomName,
      moderator: false,
      context: { user: { id: PEOPLE.client.sub, name: PEOPLE.client.name, affiliation: 'member' } },
    });
    expect(claims.exp).toBe(Date.parse(booked.expiresAt) / 1000);
    const therapist = await generate('therapistA', { appointmentId: booked.appointmentId });
    expect(decodeJwt(therapist.body.token).payload).toMatchObject({ room: booked.roomName, moderator: true });
  });

  it('lets expiresIn shorten an appointment token, never past the window', async () => {
    const booked = await book(-5, 30); // open now, closes 40 minutes from now
    const windowClose = Date.parse(booked.expiresAt) / 1000;
    const short = await generate('client', { appointmentId: booked.appointmentId, expiresIn: 600 });
    expect(short.status).toBe(200);
    const claims = decodeJwt(short.body.token).payload;
    expect(claims.exp - claims.iat).toBe(600);
    expect(claims.nbf).toBe(claims.iat - 30);
    expect(Date.parse(short.body.expiresAt) / 1000).toBe(claims.exp);
    expect(claims.exp).toBeLessThan(windowClose);
    const long = await generate('therapistA', { appointmentId: booked.appointmentId, expiresIn: 86_400 });
    expect(decodeJwt(long.body.token).payload.exp).toBe(windowClose);
  });

  it('refuses strangers and other therapists by id or by room name, and a client asking for the moderator role', async () => {
    const booked = await book();
    for (const who of ['stranger', 'therapistB'] as const) {
      expect((await generate(who, { appointmentId: booked.appointmentId })).status).toBe(403);
      expect((await generate(who, { roomName: booked.roomName })).status).toBe(403);
      expect((await generate(who, { roomName: booked.roomName, isModerator: true })).status).toBe(403);
    }
    // An appointment-prefixed name that no appointment has is refused the same way.
    expect((await generate('therapistA', { roomName: 'appt-aaaaaaaaaaaaaaaaaaaaaaaaaa' })).status).toBe(403);
    const escalation = await generate('client', { appointmentId: booked.appointmentId, isModerator: true });
    expect(escalation.status).toBe(403);
    expect(escalation.body.field).toBe('isModerator');
    // With an ad-hoc room named, a stranger's appointment id is answered as an unknown id is (the
    // room decides): the answer does not tell whether the appointment exists, and gives nothing of it.
    const known = await generate('stranger', { appointmentId: booked.appointmentId, roomName: 'team-standup' });
    const unknown = await generate('stranger', { appointmentId: 'no-such-appointment', roomName: 'team-standup' });
    expect([known.status, unknown.status]).toEqual([200, 200]);
    for (const answer of [known, unknown]) expect(decodeJwt(answer.body.token).payload.room).toBe('team-standup');
  });

  it('keeps ad-hoc rooms as they were, with no store call needed', async () => {
    const adhoc = await generate('stranger', { roomName: 'team-standup' });
    expect(adhoc.status).toBe(200);
    expect(decodeJwt(adhoc.body.token).payload.room).toBe('team-standup');
  });
});

describe('refresh is bounded by the appointment', () => {
  it('keeps the original lifetime and never goes past the appointment end', async () => {
    const booked = await book(-5, 5); // open now, closes 15 minutes after its end
    const first = await generate('client', { appointmentId: booked.appointmentId });
    const original = decodeJwt(first.body.token).payload;
    const renewed = await refresh('client', first.body.token);
    expect(renewed.status).toBe(200);
    const after = decodeJwt(renewed.body.token).payload;
    expect(after.exp).toBeLessThanOrEqual(original.exp);
    expect(after.exp).toBe(Date.parse(booked.expiresAt) / 1000);

    const adhoc = await generate('client', { roomName: 'short-call', expiresIn: 60 });
    const adhocRenewed = decodeJwt((await refresh('client', adhoc.body.token)).body.token).payload;
    expect(adhocRenewed.exp - adhocRenewed.iat).toBe(60);
  });

  it('refuses another holder, and a token of a cancelled or moved appointment', async () => {
    const booked = await book();
    const clientToken = (await generate('client', { appointmentId: booked.appointmentId })).body.token;
    expect((await refresh('stranger', clientToken)).status).toBe(403);

    const moved = await resource('therapistA', 'PATCH', booked.appointmentId, '', { scheduledStartTime: inMinutes(5), durationMinutes: 50 });
    expect(moved.body).toMatchObject({ status: 'scheduled', version: 2 });
    const stale = await refresh('client', clientToken);
    expect(stale.status).toBe(409);
    expect(stale.body.type).toBe('urn:jitsi-token-api:problem:appointment-moved');

    const fresh = (await generate('client', { appointmentId: booked.appointmentId })).body.token;
    expect((await refresh('client', fresh)).status).toBe(200);
    expect((await resource('therapistA', 'DELETE', booked.appointmentId)).body.status).toBe('cancelled');
    expect((await refresh('client', fresh)).body.type).toBe('urn:jitsi-token-api:problem:appointment-cancelled');
    expect((await generate('client', { appointmentId: booked.appointmentId })).body.type).toBe('urn:jitsi-token-api:problem:appointment-cancelled');
    // Cancelled is final: create-room cannot bring it back.
    const revived = await createRoom('therapistA', {
      appointmentId: booked.appointmentId,
      clientId: PEOPLE.client.sub,
      scheduledStartTime: inMinutes(10),
      durationMinutes: 50,
    });
    expect(revived.body.type).toBe('urn:jitsi-token-api:problem:appointment-cancelled');
  });
});

describe('the appointment resource and its audit trail', () => {
  it('lets members read status and window, only the therapist move, cancel and read the trail; strangers learn nothing', async () => {
    const booked = await book();
    const seen = await resource('client', 'GET', booked.appointmentId);
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({ appointmentId: booked.appointmentId, status: 'scheduled', role: 'client', durationMinutes: 50 });
    expect(JSON.stringify(seen.body)).not.toContain(PEOPLE.client.name);

    const unknown = await resource('stranger', 'GET', 'no-such-appointment');
    const strangerView = await resource('stranger', 'GET', booked.appointmentId);
    expect(strangerView.status).toBe(403);
    expect(unknown.status).toBe(403);
    expect({ ...strangerView.body, requestId: 'x' }).toEqual({ ...unknown.body, requestId: 'x' });

    expect((await resource('client', 'DELETE', booked.appointmentId)).status).toBe(403);
    expect((await resource('client', 'PATCH', booked.appointmentId, '', { scheduledStartTime: inMinutes(60) })).status).toBe(403);
    expect((await resource('client', 'GET', booked.appointmentId, '/audit')).status).toBe(403);
    expect((await resource('therapistB', 'GET', booked.appointmentId, '/audit')).status).toBe(403);

    await generate('client', { appointmentId: booked.appointmentId });
    await generate('stranger', { appointmentId: booked.appointmentId });
    const trail = await resource('therapistA', 'GET', booked.appointmentId, '/audit');
    expect(trail.status).toBe(200);
    const actions = trail.body.records.map(
      (record: { action: string; actor: string; role?: string }) => `${record.action}:${record.actor}:${record.role ?? '-'}`,
    );
    // Newest first: every change and token, then (same second here) each asker's refusals, counted per reason.
    expect(actions.slice(0, 4)).toEqual([
      'token-issued:client-c:client',
      'token-issued:therapist-a:client',
      'token-issued:therapist-a:therapist',
      'created:therapist-a:-',
    ]);
    const refusals = trail.body.records
      .filter((record: { action: string }) => record.action === 'refused')
      .map((record: { actor: string; note: string; count: number }) => `${record.actor}:${record.note}:${record.count}`)
      .sort();
    // The client's DELETE, PATCH and trail read are one record (count 3); the stranger's GET and token request another.
    expect(refusals).toEqual(['client-c:not_the_therapist:3', 'stranger-s:not_a_member:2', 'therapist-b:not_a_member:1']);
    expect(trail.body.records).toHaveLength(7);
    expect(trail.body.next).toBeUndefined();
    for (const record of trail.body.records) {
      expect(record.requestId).toMatch(/.+/);
      if (record.action === 'token-issued') expect(record.tokenHash).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
    const text = JSON.stringify(trail.body);
    for (const secretish of [PEOPLE.client.name, PEOPLE.therapistA.name, booked.clientToken, booked.therapistToken]) expect(text).not.toContain(secretish);
  });
});

describe('validate-token', () => {
  it('reports a cancelled appointment, and tells the holder identity only to the holder or the therapist', async () => {
    const booked = await book();
    const holderView = await validate('client', booked.clientToken);
    expect(holderView.body).toMatchObject({ valid: true, userId: PEOPLE.client.sub, room: booked.roomName });
    expect((await validate('therapistA', booked.clientToken)).body).toMatchObject({ valid: true, userId: PEOPLE.client.sub });
    const strangerView = await validate('stranger', booked.clientToken);
    expect(strangerView.body).toEqual({ valid: true, expiresAt: booked.expiresAt, signedWith: 'current' });
    await resource('therapistA', 'DELETE', booked.appointmentId);
    expect((await validate('client', booked.clientToken)).body).toEqual({ valid: false, reason: 'appointment_cancelled' });
  });

  it('reports a token issued for an earlier time of a moved appointment as appointment_moved; a token for the new time is valid', async () => {
    const booked = await book();
    expect((await validate('client', booked.clientToken)).body).toMatchObject({ valid: true });
    // Still open now, so the new time's token is valid at once.
    const moved = await resource('therapistA', 'PATCH', booked.appointmentId, '', { scheduledStartTime: inMinutes(5), durationMinutes: 50 });
    expect(moved.body).toMatchObject({ status: 'scheduled', version: 2 });
    for (const who of ['client', 'therapistA', 'stranger'] as const) {
      expect((await validate(who, booked.clientToken)).body).toEqual({ valid: false, reason: 'appointment_moved' });
    }
    expect((await validate('therapistA', booked.therapistToken)).body).toEqual({ valid: false, reason: 'appointment_moved' });
    const fresh = (await generate('client', { appointmentId: booked.appointmentId })).body.token;
    expect(decodeJwt(fresh).payload.appointment_version).toBe(2);
    expect((await validate('client', fresh)).body).toMatchObject({ valid: true, userId: PEOPLE.client.sub });
    // Cancelling moves the version too; the answer names the cancel.
    await resource('therapistA', 'DELETE', booked.appointmentId);
    expect((await validate('client', booked.clientToken)).body).toEqual({ valid: false, reason: 'appointment_cancelled' });
  });
});
