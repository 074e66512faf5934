// The sam local fixtures in events/ run through their handlers with events/env.json, as
// `sam local invoke -e events/<route>.json --env-vars events/env.json` would.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { deployedRoutes as routes } from '../../lib/routes.ts';
import { json, lambdaContext, loadHandlers, type Handler } from '../helpers/handlers.ts';
import { decodeJwt, jitsiRuleViolations } from '../helpers/jwt.ts';

// env.json's settings, each set of handlers with a table of its own here (env.json names the one
// `npm start` serves to sam local: test/infra/sam-local.test.ts runs that path).
const {
  APPOINTMENTS_TABLE: _table,
  APPOINTMENTS_ENDPOINT: _endpoint,
  ...env
} = JSON.parse(readFileSync('events/env.json', 'utf8')).Parameters as Record<string, string>;
const readEvent = (name: string) => JSON.parse(readFileSync(`events/${name}.json`, 'utf8'));
// The create-room event books an appointment for 2027-01-15T10:00Z, and the validate-token and
// refresh-token events carry a token (signed with env.json's secret) for 2027-01-14T09:00Z.
const EVENT_DAY = new Date('2027-01-14T09:00:00Z');

afterAll(() => {
  vi.useRealTimers();
});

describe('events/ for sam local', () => {
  it('has one event per route, each with the route key of the table', () => {
    for (const route of routes) {
      const event = readEvent(route.name);
      expect(event.routeKey).toBe(`${route.method} ${route.path}`);
      expect(event.requestContext.http.method).toBe(route.method);
    }
  });

  it('runs each event through its handler: tokens for generate-token, create-room and refresh-token, a verdict for validate-token', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: EVENT_DAY });
    const handlers = await loadHandlers({ ...env, AWS_SAM_LOCAL: 'true', AWS_LAMBDA_FUNCTION_NAME: 'sam-local' });
    const byName: Record<string, Handler> = {
      'generate-token': handlers.generateToken,
      'create-room': handlers.createRoom,
      'validate-token': handlers.validateToken,
      'refresh-token': handlers.refreshToken,
    };
    const now = Math.floor(EVENT_DAY.getTime() / 1000);
    const expected = { appId: env.JITSI_APP_ID!, audience: env.JITSI_APP_ID!, sub: env.JITSI_DOMAIN!, maxLifetime: 86_400 };

    const generated = await byName['generate-token']!(readEvent('generate-token'), lambdaContext());
    expect(generated.statusCode).toBe(200);
    expect(jitsiRuleViolations(json(generated).token, expected, now)).toEqual([]);

    const created = await byName['create-room']!(readEvent('create-room'), lambdaContext());
    expect(created.statusCode).toBe(200);
    const room = json(created);
    for (const token of [room.therapistToken, room.clientToken]) expect(jitsiRuleViolations(token, expected, now)).toEqual([]);
    expect(decodeJwt(room.therapistToken).payload.nbf).toBe(Date.parse('2027-01-15T09:45:00Z') / 1000 - 30);

    const validated = await byName['validate-token']!(readEvent('validate-token'), lambdaContext());
    expect(validated.statusCode).toBe(200);
    expect(json(validated)).toMatchObject({ valid: true, room: 'test-room-123', moderator: false, userId: 'client-789' });

    // HS256 mode serves no public keys: the keys route answers 404 problem+json.
    const keys = await handlers.jitsiKeys(readEvent('jitsi-keys'), lambdaContext());
    expect(keys.statusCode).toBe(404);
    expect(keys.headers?.['content-type']).toBe('application/problem+json');

    const refreshed = await byName['refresh-token']!(readEvent('refresh-token'), lambdaContext());
    expect(refreshed.statusCode).toBe(200);

    // The appointment events act on the appointment the create-room event registered, as its therapist.
    const status = await handlers.getAppointment(readEvent('get-appointment'), lambdaContext());
    expect(json(status)).toMatchObject({ appointmentId: 'appt-456', status: 'scheduled', role: 'therapist', scheduledStartTime: '2027-01-15T10:00:00.000Z' });
    const moved = await handlers.moveAppointment(readEvent('move-appointment'), lambdaContext());
    expect(json(moved)).toMatchObject({ status: 'scheduled', scheduledStartTime: '2027-01-15T11:00:00.000Z', version: 2 });
    const trail = await handlers.appointmentAudit(readEvent('appointment-audit'), lambdaContext());
    expect(json(trail).records.map((record: { action: string }) => record.action)).toEqual(['moved', 'token-issued', 'token-issued', 'created']);
    const link = await handlers.createJoinLink(readEvent('create-join-link'), lambdaContext());
    expect(link.statusCode).toBe(201);
    const exchange = readEvent('exchange-join-link');
    // The fixture holds a placeholder: as sam local would send it, the link is unknown.
    expect((await handlers.exchangeJoinLink(exchange, lambdaContext())).statusCode).toBe(404);
    exchange.body = JSON.stringify({ code: json(link).code, userName: 'Alex' });
    expect(json(await handlers.exchangeJoinLink(exchange, lambdaContext()))).toMatchObject({ moderator: false, jitsiUrl: expect.stringContaining('#jwt=') });
    const cancelled = await handlers.cancelAppointment(readEvent('cancel-appointment'), lambdaContext());
    expect(json(cancelled)).toMatchObject({ status: 'cancelled', version: 3 });

    // Prosody's reservation calls for an ad-hoc room (env.json holds the key they send).
    const opened = await handlers.reservationCreate(readEvent('reservation-create'), lambdaContext());
    expect(opened.statusCode).toBe(200);
    expect(json(opened)).toMatchObject({ id: 'test-room-123', name: 'test-room-123', start_time: '2027-01-14T09:00:00.000Z', duration: 720 * 60 });
    // The same event again is Prosody's retry of the same request: the same reservation.
    const retried = await handlers.reservationCreate(readEvent('reservation-create'), lambdaContext());
    expect(json(retried)).toEqual(json(opened));
    expect(json(await handlers.reservationGet(readEvent('reservation-get'), lambdaContext()))).toMatchObject({ id: 'test-room-123' });
    expect((await handlers.reservationDelete(readEvent('reservation-delete'), lambdaContext())).statusCode).toBe(200);
    expect(jitsiRuleViolations(json(refreshed).token, expected, now)).toEqual([]);
  });
});

describe('npm run events', () => {
  it('made the committed events (at the fixture time): one per deployed route, from the route table', async () => {
    const { buildEvents, COMMITTED_EVENTS_AT, eventText } = await import('../../scripts/events.ts');
    const built = buildEvents(COMMITTED_EVENTS_AT);
    expect(Object.keys(built).sort()).toEqual(routes.map((route) => route.name).sort());
    for (const [name, event] of Object.entries(built)) expect(readFileSync(`events/${name}.json`, 'utf8'), name).toBe(eventText(event));
  });

  it('makes fresh events whose tokens are valid now, for a sam local session today', async () => {
    const { buildEvents } = await import('../../scripts/events.ts');
    vi.useRealTimers();
    const fresh = buildEvents(new Date());
    const handlers = await loadHandlers({ ...env, AWS_SAM_LOCAL: 'true', AWS_LAMBDA_FUNCTION_NAME: 'sam-local' });
    const validated = await handlers.validateToken(fresh['validate-token'] as never, lambdaContext());
    expect(json(validated)).toMatchObject({ valid: true, room: 'test-room-123', userId: 'client-789' });
    expect((await handlers.createRoom(fresh['create-room'] as never, lambdaContext())).statusCode).toBe(200);
    expect((await handlers.reservationCreate(fresh['reservation-create'] as never, lambdaContext())).statusCode).toBe(200);
  });
});
