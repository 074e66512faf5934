// Property-based tests (fast-check) on the real handlers: arbitrary JSON bodies, arbitrary values
// in every field and arbitrary token strings. Whatever comes in, the answer is a 2xx or a
// well-formed problem+json 4xx, and every issued token still meets docs/JITSI.md's rules.
// FUZZ_RUNS sets the runs per property (npm test: 200; npm run fuzz: 10 000).
import { fc, it } from '@fast-check/vitest';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { beforeAll, describe, expect } from 'vitest';
import { apiEvent, json, lambdaContext, loadHandlers, TEST_RESERVATIONS_KEY, type Handler } from '../helpers/handlers.ts';
import { jitsiRuleViolations } from '../helpers/jwt.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const params = { numRuns: RUNS };
const EXPECTED = { appId: 'test-app', audience: 'test-app', sub: 'meet.example.test', maxLifetime: 86_400 };
let handlers: Awaited<ReturnType<typeof loadHandlers>>;
let genuine: string;

beforeAll(async () => {
  handlers = await loadHandlers();
  genuine = json(await handlers.generateToken(apiEvent('/api/jitsi/generate-token', { roomName: 'room-1', userName: 'Prop' }), lambdaContext())).token;
  const registered = await handlers.createRoom(
    apiEvent('/api/jitsi/create-room', {
      appointmentId: 'prop-appt',
      therapistId: 'prop-t',
      clientId: 'prop-c',
      scheduledStartTime: new Date(Date.now() + 3_600_000).toISOString(),
    }),
    lambdaContext(),
  );
  expect(registered.statusCode).toBe(200);
});

/** An event for the appointment resource, as API Gateway would pass it. */
function resourceEvent(method: string, appointmentId: string, query: Record<string, string>, body?: string) {
  const event = apiEvent(`/api/jitsi/appointments/${encodeURIComponent(appointmentId)}`, undefined, { method, rawBody: body ?? '' });
  event.pathParameters = { appointmentId };
  event.queryStringParameters = query;
  return event;
}

/** The invariants every answer keeps. */
function checkAnswer(result: APIGatewayProxyStructuredResultV2, tokenFields: string[]): void {
  const status = result.statusCode ?? 0;
  expect(status >= 200 && status < 500, `status ${status}`).toBe(true);
  const body = json(result);
  if (status >= 400) {
    expect(result.headers?.['content-type']).toBe('application/problem+json');
    expect(body.type).toMatch(/^urn:jitsi-token-api:problem:[a-z-]+$/);
    expect(body.status).toBe(status);
    expect(typeof body.title).toBe('string');
    expect(typeof body.requestId).toBe('string');
    expect(result.body).not.toMatch(/\bat .+:\d+:\d+|SyntaxError|TypeError/);
    return;
  }
  for (const field of tokenFields) expect(jitsiRuleViolations(body[field], EXPECTED)).toEqual([]);
}

const anyValue = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
);
const roomish = fc.oneof(fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,20}$/), anyValue);
const nameish = fc.oneof(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), anyValue);
const isoish = fc.oneof(
  fc.date({ min: new Date(Date.now() - 86_400_000), max: new Date(Date.now() + 400 * 86_400_000), noInvalidDate: true }).map((date) => date.toISOString()),
  anyValue,
);

const call = (handler: Handler, path: string, body: string) => handler(apiEvent(path, undefined, { rawBody: body }), lambdaContext());

describe(`properties (${RUNS} runs each)`, () => {
  it.prop([fc.json()], params)('generate-token: any JSON body', async (body) => {
    checkAnswer(await call(handlers.generateToken, '/api/jitsi/generate-token', body), ['token']);
  });

  it.prop([fc.json()], params)('create-room: any JSON body', async (body) => {
    checkAnswer(await call(handlers.createRoom, '/api/jitsi/create-room', body), ['therapistToken', 'clientToken']);
  });

  it.prop([fc.json()], params)('validate-token: any JSON body', async (body) => {
    checkAnswer(await call(handlers.validateToken, '/api/jitsi/validate-token', body), []);
  });

  it.prop([fc.json()], params)('refresh-token: any JSON body', async (body) => {
    checkAnswer(await call(handlers.refreshToken, '/api/jitsi/refresh-token', body), ['token']);
  });

  it.prop(
    [
      fc.record(
        {
          roomName: roomish,
          userName: nameish,
          userEmail: anyValue,
          userId: anyValue,
          userAvatar: anyValue,
          isModerator: fc.oneof(fc.boolean(), anyValue),
          appointmentId: anyValue,
          expiresIn: fc.oneof(fc.integer({ min: -10, max: 100_000 }), anyValue),
        },
        { requiredKeys: [] },
      ),
    ],
    params,
  )('generate-token: any value in every field', async (body) => {
    checkAnswer(await call(handlers.generateToken, '/api/jitsi/generate-token', JSON.stringify(body)), ['token']);
  });

  it.prop(
    [
      fc.record(
        {
          appointmentId: anyValue,
          therapistId: anyValue,
          clientId: anyValue,
          scheduledStartTime: isoish,
          durationMinutes: fc.oneof(fc.integer({ min: 0, max: 1000 }), anyValue),
          callType: fc.oneof(fc.constantFrom('video', 'audio'), anyValue),
          therapistName: nameish,
          clientName: nameish,
        },
        { requiredKeys: [] },
      ),
    ],
    params,
  )('create-room: any value in every field', async (body) => {
    checkAnswer(await call(handlers.createRoom, '/api/jitsi/create-room', JSON.stringify(body)), ['therapistToken', 'clientToken']);
  });

  it.prop(
    [
      fc.oneof(
        fc.string(),
        fc.string({ unit: 'binary', maxLength: 5000 }),
        fc.stringMatching(/^[A-Za-z0-9_-]{1,60}\.[A-Za-z0-9_-]{1,200}\.[A-Za-z0-9_-]{0,60}$/),
      ),
    ],
    params,
  )('validate-token: any token string is a verdict (or 413 over 4 KiB), never "valid"', async (token) => {
    const result = await call(handlers.validateToken, '/api/jitsi/validate-token', JSON.stringify({ token }));
    checkAnswer(result, []);
    if (result.statusCode === 200) expect(json(result).valid).toBe(false);
  });

  it.prop([fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 255 })], params)(
    'validate-token: a genuine token with any one byte changed is refused',
    async (position, value) => {
      const index = position % genuine.length;
      const mutated = genuine.slice(0, index) + String.fromCharCode(value) + genuine.slice(index + 1);
      const result = await call(handlers.validateToken, '/api/jitsi/validate-token', JSON.stringify({ token: mutated }));
      checkAnswer(result, []);
      // base64url has two spellings of the last character's unused bits; only those may survive.
      if (mutated !== genuine && json(result).valid === true) {
        expect(Buffer.from(mutated.split('.')[2] ?? '', 'base64url')).toEqual(Buffer.from(genuine.split('.')[2]!, 'base64url'));
      }
    },
  );

  it.prop(
    [fc.oneof(fc.constant('prop-appt'), fc.string({ maxLength: 140 })), fc.oneof(fc.string({ maxLength: 140 }), fc.constant('prop-c'), fc.constant('prop-t'))],
    params,
  )('the appointment resource: any id and asker is a 4xx problem or the view of a member, never another appointment', async (appointmentId, userId) => {
    const result = await handlers.getAppointment(resourceEvent('GET', appointmentId, { userId }), lambdaContext());
    checkAnswer(result, []);
    if (result.statusCode === 200) {
      expect(appointmentId).toBe('prop-appt');
      expect(['prop-c', 'prop-t']).toContain(userId);
    }
  });

  it.prop([fc.string({ maxLength: 140 }), fc.option(fc.boolean(), { nil: undefined })], params)(
    'generate-token for the appointment: nobody but its members gets a token, and never the other role',
    async (userId, isModerator) => {
      const body = { appointmentId: 'prop-appt', userId, userName: 'Prop', ...(isModerator === undefined ? {} : { isModerator }) };
      const result = await call(handlers.generateToken, '/api/jitsi/generate-token', JSON.stringify(body));
      checkAnswer(result, result.statusCode === 200 ? ['token'] : []);
      if (result.statusCode === 200) {
        expect(['prop-c', 'prop-t']).toContain(userId);
        expect(json(result).moderator).toBe(userId === 'prop-t');
      }
    },
  );

  it.prop([fc.string({ maxLength: 80 }), fc.option(nameish, { nil: undefined })], params)(
    'join-link exchange: any code is a 404 or a 4xx problem, never a token',
    async (code, userName) => {
      const result = await call(
        handlers.exchangeJoinLink,
        '/api/jitsi/join-links/exchange',
        JSON.stringify({ code, ...(userName === undefined ? {} : { userName }) }),
      );
      checkAnswer(result, []);
      expect(result.statusCode).not.toBe(200);
    },
  );

  it.prop(
    [
      fc.oneof(fc.string({ maxLength: 300 }), fc.stringMatching(/^(\[[a-z0-9]{1,8}\])?appt-[a-z2-7]{26}$/)),
      fc.string({ maxLength: 60 }),
      fc.string({ maxLength: 60 }),
    ],
    params,
  )(
    'the reservation API: any form is a 4xx problem or an answer for a room, never one for an appointment that does not exist',
    async (name, startTime, mailOwner) => {
      const event = apiEvent('/api/jitsi/reservations/conference', undefined, {
        rawBody: new URLSearchParams({ name, start_time: startTime, mail_owner: mailOwner }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${TEST_RESERVATIONS_KEY}` },
      });
      const result = await handlers.reservationCreate(event, lambdaContext());
      checkAnswer(result, []);
      if (result.statusCode === 200 || result.statusCode === 409) expect(name).not.toMatch(/appt-/);
    },
  );
});
