// npm run events: writes events/<route>.json for every deployed route, as API Gateway's HTTP API
// (payload 2.0) would send it, for `sam local invoke -e`. Tokens in them are signed with
// events/env.json's secret and are valid from now for an hour, the appointment starts tomorrow:
// run it before a sam local session. `--at <ISO time>` makes them for another moment (the
// committed files are made at 2027-01-14T09:00:00Z, which the events test pins).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSettings } from '../lib/config.ts';
import { ROUTES, deployedRoutes, routeKeyOf, type RouteDefinition } from '../lib/routes.ts';
import { buildJitsiClaims, createSigningKey, signJitsiToken, tokenTimesFrom } from '../lib/token.ts';
import { gatewayEvent, type GatewayOrigin } from '../infra/local/gateway-event.ts';
import { PROJECT_ROOT } from './server-process.ts';

export const EVENTS_DIR = join(PROJECT_ROOT, 'events');
export const COMMITTED_EVENTS_AT = new Date('2027-01-14T09:00:00Z');

const APPOINTMENT = { appointmentId: 'appt-456', therapistId: 'therapist-123', clientId: 'client-789' };
const ROOM = 'test-room-123';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** API Gateway's requestContext.time: 14/Jan/2027:09:00:00 +0000. */
const gatewayTime = (at: Date) =>
  `${String(at.getUTCDate()).padStart(2, '0')}/${MONTHS[at.getUTCMonth()]}/${at.getUTCFullYear()}:${at.toISOString().slice(11, 19)} +0000`;

interface EventParts {
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  body?: string;
  contentType?: string;
  authorization?: string;
}

const SAM_LOCAL_ORIGIN: GatewayOrigin = {
  accountId: '123456789012',
  apiId: 'local',
  domainName: 'localhost',
  domainPrefix: 'localhost',
  sourceIp: '127.0.0.1',
  userAgent: 'sam-local-example',
  protocol: 'HTTP/1.1',
};

function samEvent(route: RouteDefinition, parts: EventParts, at: Date): Record<string, unknown> {
  const rawPath = route.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(parts.pathParameters?.[name] ?? ''));
  const headers: Record<string, string> = {
    ...(parts.contentType ? { 'content-type': parts.contentType } : {}),
    origin: 'http://localhost:5173',
    host: 'localhost:3000',
    'user-agent': 'sam-local-example',
    ...(parts.authorization ? { authorization: parts.authorization } : {}),
  };
  return gatewayEvent(SAM_LOCAL_ORIGIN, {
    routeKey: routeKeyOf(route),
    method: route.method,
    rawPath,
    rawQueryString: new URLSearchParams(parts.query ?? {}).toString(),
    headers,
    queryStringParameters: parts.query,
    pathParameters: parts.pathParameters,
    body: parts.body,
    requestId: 'sam-local-example-request',
    time: gatewayTime(at),
    timeEpoch: at.getTime(),
  }) as unknown as Record<string, unknown>;
}

/** Every deployed route's event at a moment, signed with env.json's settings. */
export function buildEvents(at: Date, envFile = join(EVENTS_DIR, 'env.json')): Record<string, Record<string, unknown>> {
  const env = (JSON.parse(readFileSync(envFile, 'utf8')) as { Parameters: Record<string, string> }).Parameters;
  const settings = loadSettings({ ...env, AWS_SAM_LOCAL: 'true', AWS_LAMBDA_FUNCTION_NAME: 'events' });
  if (settings.secretSource.kind !== 'env') throw new Error('events/env.json must hold the app secret the events are signed with');
  const now = Math.floor(at.getTime() / 1000);
  const clientToken = signJitsiToken(
    buildJitsiClaims({ room: ROOM, user: { id: APPOINTMENT.clientId, name: 'Alex' }, moderator: false, ...tokenTimesFrom(now, 3600) }, settings),
    createSigningKey(settings.secretSource.value),
  );
  const start = new Date(at.getTime() + 25 * 3_600_000);
  const json = (value: unknown) => ({ body: JSON.stringify(value), contentType: 'application/json' });
  const asTherapist = { pathParameters: { appointmentId: APPOINTMENT.appointmentId }, query: { userId: APPOINTMENT.therapistId } };
  const prosody = { authorization: `Bearer ${env.RESERVATIONS_API_KEY}` };
  // Prosody's event sync component, as it posts (its plugin's payloads; names and emails are dropped on arrival).
  const eventSync = (payload: Record<string, unknown>) => ({
    authorization: `Bearer ${env.EVENTS_API_KEY}`,
    ...json({ room_name: ROOM, room_jid: `${ROOM}@conference.meet.jitsi`, is_breakout: false, ...payload }),
  });
  const occupant = { occupant_jid: `${ROOM}@conference.meet.jitsi/3f2a9c1e`, joined_at: now - 600, name: 'Alex', id: APPOINTMENT.clientId };
  const parts = new Map<RouteDefinition, EventParts>([
    [ROUTES.generateToken, json({ roomName: ROOM, userName: 'Test User', userEmail: 'test@example.com', isModerator: true, expiresIn: 3600 })],
    [
      ROUTES.createRoom,
      json({
        ...APPOINTMENT,
        scheduledStartTime: start.toISOString().replace('.000Z', 'Z'),
        durationMinutes: 50,
        therapistName: 'Dr. Sarah Johnson',
        clientName: 'Alex',
      }),
    ],
    [ROUTES.validateToken, json({ token: clientToken })],
    [ROUTES.refreshToken, json({ token: clientToken })],
    [ROUTES.jitsiKeys, { pathParameters: { keyFile: `${'0'.repeat(64)}.pem` } }],
    [ROUTES.getAppointment, asTherapist],
    [
      ROUTES.moveAppointment,
      { ...asTherapist, ...json({ scheduledStartTime: new Date(start.getTime() + 3_600_000).toISOString().replace('.000Z', 'Z'), durationMinutes: 50 }) },
    ],
    [ROUTES.cancelAppointment, asTherapist],
    [ROUTES.appointmentAudit, asTherapist],
    [ROUTES.createJoinLink, asTherapist],
    // A placeholder: use the code create-join-link answers.
    [ROUTES.exchangeJoinLink, json({ code: 'REPLACE-with-the-code-create-join-link-gave', userName: 'Alex' })],
    [
      ROUTES.reservationCreate,
      {
        ...prosody,
        contentType: 'application/x-www-form-urlencoded',
        body: new URLSearchParams({ name: ROOM, start_time: at.toISOString(), mail_owner: '3f2a9c1e-0b7d-4c55-9d3e-4f5a6b7c8d9e@meet.example.com' }).toString(),
      },
    ],
    [ROUTES.reservationGet, { ...prosody, pathParameters: { id: ROOM } }],
    [ROUTES.reservationDelete, { ...prosody, pathParameters: { id: ROOM } }],
    [ROUTES.roomCreatedEvent, eventSync({ event_name: 'muc-room-created', created_at: now - 900 })],
    [ROUTES.occupantJoinedEvent, eventSync({ event_name: 'muc-occupant-joined', occupant, active_occupants_count: 1 })],
    [ROUTES.occupantLeftEvent, eventSync({ event_name: 'muc-occupant-left', occupant: { ...occupant, left_at: now - 60 }, active_occupants_count: 0 })],
    [
      ROUTES.roomDestroyedEvent,
      eventSync({ event_name: 'muc-room-destroyed', created_at: now - 900, destroyed_at: now - 30, all_occupants: [{ ...occupant, left_at: now - 60 }] }),
    ],
    [ROUTES.attendance, asTherapist],
    [ROUTES.endMeeting, asTherapist],
  ]);
  const events: Record<string, Record<string, unknown>> = {};
  for (const route of deployedRoutes) {
    const routeParts = parts.get(route);
    if (routeParts === undefined) throw new Error(`scripts/events.ts has no event for ${route.name}: add one`);
    events[route.name] = samEvent(route, routeParts, at);
  }
  return events;
}

export const eventText = (event: Record<string, unknown>) => `${JSON.stringify(event, null, 2)}\n`;

/** Where fresh events go (untracked): events/ holds the committed ones, which a test pins to COMMITTED_EVENTS_AT. */
export const FRESH_EVENTS_DIR = join(EVENTS_DIR, '..', '.events-now');

if (import.meta.url === `file://${process.argv[1]}`) {
  // --committed: events/ again, for COMMITTED_EVENTS_AT (after a route changes); otherwise fresh ones into .events-now/.
  const committed = process.argv.includes('--committed');
  const atFlag = process.argv.indexOf('--at');
  const at = committed ? COMMITTED_EVENTS_AT : atFlag > 0 ? new Date(process.argv[atFlag + 1] ?? '') : new Date(Math.floor(Date.now() / 1000) * 1000);
  if (Number.isNaN(at.getTime())) throw new Error('--at takes an ISO date-time');
  const folder = committed ? EVENTS_DIR : FRESH_EVENTS_DIR;
  mkdirSync(folder, { recursive: true });
  for (const [name, event] of Object.entries(buildEvents(at))) writeFileSync(join(folder, `${name}.json`), eventText(event));
  console.log(`wrote ${deployedRoutes.length} events for ${at.toISOString()} into ${committed ? 'events/' : '.events-now/ (untracked; events/ is unchanged)'}`);
}
