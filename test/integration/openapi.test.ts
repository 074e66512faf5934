// The OpenAPI description: made from the same schemas the handlers validate with, committed in
// docs/openapi.json (a test fails when it is stale), served at /openapi.json, and checked
// against real responses of every route.
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../infra/local/server.ts';
import { deployedRoutes as routes } from '../../lib/routes.ts';
import { buildOpenApi } from '../../lib/openapi.ts';
import { TEST_RESERVATIONS_KEY, TEST_EVENTS_KEY } from '../helpers/handlers.ts';
import { post, startServer } from '../helpers/local-server.ts';

const document = buildOpenApi(routes) as any;
let server: RunningServer;
const ajv = new Ajv2020({ strict: false, validateFormats: false });
ajv.addSchema(document.components.schemas.Problem, '#/components/schemas/Problem');

beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

function check(path: string, method: string, status: number, body: unknown, contentType: string | null): void {
  const response = document.paths[path][method].responses[String(status)];
  expect(response, `${method} ${path} documents ${status}`).toBeDefined();
  const media = (response.content as Record<string, { schema: unknown }>)[contentType ?? ''];
  expect(media, `${method} ${path} ${status} documents ${contentType}`).toBeDefined();
  const schema = media!.schema as { $ref?: string };
  const validate = schema.$ref ? ajv.getSchema(schema.$ref)! : ajv.compile(schema);
  expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
}

describe('OpenAPI 3.1 description', () => {
  it('is committed up to date in docs/openapi.json (run `npm run docs` after changing a route or schema)', () => {
    expect(JSON.parse(readFileSync('docs/openapi.json', 'utf8'))).toEqual(document);
  });

  it('is served by the local server at /openapi.json and describes every route of the table', async () => {
    const served = (await (await fetch(`${server.url}/openapi.json`)).json()) as any;
    expect(served.openapi).toBe('3.1.0');
    for (const route of routes) expect(served.paths[route.path][route.method.toLowerCase()]).toBeDefined();
    expect(served).toEqual(JSON.parse(JSON.stringify(document)));
  });

  it('matches real responses of every route, successes and problems', async () => {
    const url = (name: string) => `${server.url}/api/jitsi/${name}`;
    const seen = new Set<string>();
    const record = async (name: string, path: string, response: Awaited<ReturnType<typeof post>>) => {
      check(path, 'post', response.status, response.body, response.headers.get('content-type'));
      seen.add(name);
    };
    const generated = await post(url('generate-token'), { roomName: 'room-1', userName: 'Open Api', tenant: 'acme' });
    await record('generate-token', '/api/jitsi/generate-token', generated);
    await record('generate-token', '/api/jitsi/generate-token', await post(url('generate-token'), { roomName: 'Bad Room', userName: 'x' }));
    await record('generate-token', '/api/jitsi/generate-token', await post(url('generate-token'), 'x'.repeat(9000)));
    await record(
      'create-room',
      '/api/jitsi/create-room',
      await post(url('create-room'), {
        appointmentId: 'a',
        therapistId: 't',
        clientId: 'c',
        scheduledStartTime: new Date(Date.now() + 3_600_000).toISOString(),
      }),
    );
    await record('validate-token', '/api/jitsi/validate-token', await post(url('validate-token'), { token: generated.body.token, tenant: 'acme' }));
    await record('validate-token', '/api/jitsi/validate-token', await post(url('validate-token'), { token: 'a.b.c' }));
    await record('refresh-token', '/api/jitsi/refresh-token', await post(url('refresh-token'), { token: generated.body.token }));
    await record('refresh-token', '/api/jitsi/refresh-token', await post(url('refresh-token'), { token: 'a.b.c' }));
    const key = await fetch(`${server.url}/api/jitsi/keys/${'0'.repeat(64)}.pem`);
    check('/api/jitsi/keys/{keyFile}', 'get', key.status, await key.json(), key.headers.get('content-type'));
    seen.add('jitsi-keys');
    // The appointment resource: its status, a move, its trail, a stranger, a cancel.
    const resource = (suffix = '') => `${server.url}/api/jitsi/appointments/a${suffix}`;
    const call = async (name: string, path: string, method: string, target: string, body?: unknown) => {
      const response = await fetch(target, { method, ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}) });
      check(path, method.toLowerCase(), response.status, await response.json(), response.headers.get('content-type'));
      seen.add(name);
    };
    const item = '/api/jitsi/appointments/{appointmentId}';
    await call('get-appointment', item, 'GET', resource('?userId=t'));
    await call('get-appointment', item, 'GET', resource('?userId=stranger'));
    await call('get-appointment', item, 'GET', resource());
    await call('move-appointment', item, 'PATCH', resource('?userId=t'), { scheduledStartTime: new Date(Date.now() + 7_200_000).toISOString() });
    await call('appointment-audit', `${item}/audit`, 'GET', resource('/audit?userId=t'));
    await call('cancel-appointment', item, 'DELETE', resource('?userId=t'));
    await call('move-appointment', item, 'PATCH', resource('?userId=t'), { scheduledStartTime: new Date(Date.now() + 7_200_000).toISOString() });
    await record('generate-token', '/api/jitsi/generate-token', await post(url('generate-token'), { appointmentId: 'a', userId: 'c', userName: 'Client' }));
    // Join links: make one for a fresh appointment, exchange it twice.
    await post(url('create-room'), { appointmentId: 'b', therapistId: 't', clientId: 'c', scheduledStartTime: new Date(Date.now() + 600_000).toISOString() });
    const link = await fetch(`${server.url}/api/jitsi/appointments/b/join-links?userId=t`, { method: 'POST' });
    const linkBody = (await link.json()) as { code: string };
    check('/api/jitsi/appointments/{appointmentId}/join-links', 'post', link.status, linkBody, link.headers.get('content-type'));
    seen.add('create-join-link');
    for (let i = 0; i < 2; i++)
      await record('exchange-join-link', '/api/jitsi/join-links/exchange', await post(url('join-links/exchange'), { code: linkBody.code }));
    // The reservation API, as Prosody calls it.
    const prosody = async (name: string, path: string, method: string, target: string, body?: string, key = TEST_RESERVATIONS_KEY) => {
      const response = await fetch(`${server.url}/api/jitsi/reservations${target}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
        ...(body ? { body } : {}),
      });
      check(`/api/jitsi/reservations${path}`, method.toLowerCase(), response.status, await response.json(), response.headers.get('content-type'));
      seen.add(name);
    };
    const form = `name=room-9&start_time=${encodeURIComponent(new Date().toISOString())}&mail_owner=x%40meet.example.com`;
    await prosody('reservation-create', '/conference', 'POST', '/conference', form);
    await prosody('reservation-create', '/conference', 'POST', '/conference', form);
    await prosody('reservation-create', '/conference', 'POST', '/conference', form, 'wrong-key');
    await prosody('reservation-get', '/conference/{id}', 'GET', '/conference/room-9');
    await prosody('reservation-delete', '/conference/{id}', 'DELETE', '/conference/room-9');
    await prosody('reservation-delete', '/conference/{id}', 'DELETE', '/conference/room-9');
    // Attendance and ending the meeting (not configured here: 409).
    await call('appointment-attendance', `${item}/attendance`, 'GET', `${server.url}/api/jitsi/appointments/b/attendance?userId=c`);
    await call('appointment-attendance', `${item}/attendance`, 'GET', `${server.url}/api/jitsi/appointments/b/attendance?userId=stranger`);
    await call('end-meeting', `${item}/end`, 'POST', `${server.url}/api/jitsi/appointments/b/end?userId=t`);
    await call('end-meeting', `${item}/end`, 'POST', `${server.url}/api/jitsi/appointments/b/end?userId=c`);
    // Prosody's event sync component.
    const eventSync = async (name: string, path: string, body: unknown, key = TEST_EVENTS_KEY) => {
      const response = await fetch(`${server.url}/api/jitsi/events/${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      check(`/api/jitsi/events/${path}`, 'post', response.status, await response.json(), response.headers.get('content-type'));
      seen.add(name);
    };
    const occupant = { occupant_jid: 'room-9@conference.meet.jitsi/ab12', joined_at: 1_800_000_000, name: 'Open Api', id: 'c' };
    const room = { room_name: 'room-9', room_jid: 'room-9@conference.meet.jitsi', is_breakout: false };
    await eventSync('jitsi-event-room-created', 'room/created', { ...room, event_name: 'muc-room-created', created_at: 1_800_000_000 });
    await eventSync('jitsi-event-room-created', 'room/created', { ...room, event_name: 'muc-room-created' }, 'wrong-key');
    await eventSync('jitsi-event-occupant-joined', 'occupant/joined', { ...room, event_name: 'muc-occupant-joined', occupant });
    await eventSync('jitsi-event-occupant-joined', 'occupant/joined', {
      ...room,
      event_name: 'muc-occupant-joined',
      occupant: { ...occupant, joined_at: '1' },
    });
    await eventSync('jitsi-event-occupant-left', 'occupant/left', {
      ...room,
      event_name: 'muc-occupant-left',
      occupant: { ...occupant, left_at: 1_800_000_100 },
    });
    await eventSync('jitsi-event-room-destroyed', 'room/destroyed', {
      ...room,
      event_name: 'muc-room-destroyed',
      created_at: 1_800_000_000,
      destroyed_at: 1_800_000_200,
      all_occupants: [{ ...occupant, left_at: 1_800_000_100 }],
    });
    expect([...seen].sort()).toEqual(routes.map((route) => route.name).sort());
  });
});
