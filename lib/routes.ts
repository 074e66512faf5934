// The one route table. Each row is everything about a route: the CDK stack, the local server,
// the API description, the sam local events, the handler test loader and the console all read
// it. Adding a route is one row, one handler file, one line in its function's entry
// (functions/lambda/), its event and its tests. This module has no side effects (the stack
// imports it at synth).
import {
  appointmentPath,
  conferencePath,
  createRoomRequest,
  exchangeJoinLinkRequest,
  generateTokenRequest,
  jitsiEventRequest,
  moveAppointmentRequest,
  refreshTokenRequest,
  requesterQuery,
  trailQuery,
  reservationRequest,
  validateTokenRequest,
  type RequestLimits,
} from './requests.ts';
import {
  appointmentResponse,
  auditTrailResponse,
  conferenceClosedResponse,
  createRoomResponse,
  joinLinkResponse,
  joinLinkTokenResponse,
  pemResponse,
  reservationConflictResponse,
  reservationResponse,
  attendanceResponse,
  endMeetingResponse,
  jitsiEventResponse,
  tokenResponse,
  validateTokenResponse,
  type JsonSchema,
} from './responses.ts';
import type { RequestSchema } from './schema.ts';
import { PUBLIC_KEYS_PARTITION } from './store/public-keys.ts';
import { KEY_FILE_PATTERN } from './token.ts';

export type HttpMethod = 'POST' | 'GET' | 'PATCH' | 'DELETE';

/** What a route's function may do to the appointments table (its IAM grant is exactly these). */
export type StoreAction = 'dynamodb:GetItem' | 'dynamodb:PutItem' | 'dynamodb:UpdateItem' | 'dynamodb:DeleteItem' | 'dynamodb:Query';

/** Reads an appointment's history, appends its next event, counts a refusal (lib/history.ts). */
const DECIDES: readonly StoreAction[] = ['dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];
/** The same, finding the appointment by its room or join code first (a GetItem). */
const DECIDES_BY_ROOM: readonly StoreAction[] = ['dynamodb:GetItem', ...DECIDES];

/**
 * The Lambda functions the stack deploys. Each runs the routes whose `runsIn` names it, grouped by
 * what they may touch: a clinic's traffic is sparse, and one warm function for all of the web
 * app's routes meets far fewer cold starts than one function per route (docs/PERFORMANCE.md,
 * "A clinic's week"). A function is granted the union of its routes' needs, nothing more.
 */
export interface FunctionDefinition {
  /** Names the function's construct, its logical id (CallerApiFunction), its alarms and its log lines. */
  name: string;
  /** The module whose `handler` Lambda runs: it dispatches on API Gateway's routeKey. */
  entry: string;
  summary: string;
  /** Runs the stack's jobs too (ending a cancelled appointment's meeting signs a token: the app secret when END_MEETING_URL is set). */
  runsJobs?: boolean;
  /** The table partitions it may touch (IAM dynamodb:LeadingKeys); every partition when unset. */
  tablePartitions?: readonly string[];
  /**
   * Its memory (MB), which also sets its CPU: Lambda gives a function memory / 1,769 of a vCPU.
   * Chosen by measurement (npm run bench:cpu; docs/PERFORMANCE.md, "Memory, chosen by measurement").
   */
  memoryMb: number;
}

export const FUNCTIONS = {
  callerApi: {
    name: 'caller-api',
    entry: 'functions/lambda/caller-api.ts',
    summary: "The web app's routes: tokens, rooms, appointments and join links",
    // The cheapest size for its store routes, and their first answer within about 50 ms.
    memoryMb: 1024,
  },
  reservationsApi: {
    name: 'reservations-api',
    entry: 'functions/lambda/reservations-api.ts',
    summary:
      "Prosody's routes (the reservation API and the event sync component's events, each with its own key, never a caller token) and the jobs the stack's rules send",
    runsJobs: true,
    // As cheap as 512 MB within the runs' noise, and a steadier first answer (p95 under 10 ms).
    memoryMb: 1024,
  },
  publicKeys: {
    name: 'public-keys',
    entry: 'functions/lambda/public-keys.ts',
    summary: "RS256 mode: the public keys Prosody's asap_key_server fetches",
    // Unauthenticated: it reads the published keys' partition and no appointment.
    tablePartitions: [PUBLIC_KEYS_PARTITION],
    memoryMb: 1024,
  },
} as const satisfies Record<string, FunctionDefinition>;

export type FunctionKey = keyof typeof FUNCTIONS;

/** What the keep-warm schedule sends a function (on unless `-c keepWarm=off`): answered at once, nothing else done. */
export const KEEP_WARM_PING = { 'jitsi-token-api': 'keep-warm' } as const;
export const KEEP_WARM_EVERY_MINUTES = 5;

export interface RouteDefinition<S extends RequestSchema = RequestSchema, P extends RequestSchema = RequestSchema, Q extends RequestSchema = RequestSchema> {
  /** Names the handler file, the function, its sam local event and its log lines. */
  name: string;
  method: HttpMethod;
  /** API Gateway route syntax: `{name}` is a path parameter. */
  path: string;
  summary: string;
  /** The handler module, relative to the project root. */
  entry: string;
  /** POST and PATCH routes: the JSON body's schema (limits come from the settings). */
  request?: (limits: RequestLimits) => S;
  /** Path parameters, parsed into the input like body fields. */
  params?: () => P;
  /** Query parameters, parsed into the input like body fields (unknown ones are refused). */
  query?: () => Q;
  /** Path parameters the function checks itself, for the API description only. */
  pathParameters?: Readonly<Record<string, JsonSchema>>;
  /** The appointment-table actions its function is granted (none: no store access at all). */
  store: readonly StoreAction[];
  /**
   * Whether its handler signs, verifies or derives names with the app secret (RS256: the private
   * key). Default: every route a caller calls; Prosody's routes never. A function may read the
   * secret only if one of its routes (or its jobs) does.
   */
  usesAppSecret?: boolean;
  response: { contentType: 'application/json' | 'application/x-pem-file'; description: string; schema: JsonSchema; status?: 200 | 201 };
  /** Problems only this route answers, by status (described in the API description). */
  problems?: Readonly<Record<number, string>>;
  /** Other answers that are part of the route's protocol, not problems (the reservation API's 409). */
  otherResponses?: Readonly<Record<number, { description: string; schema: JsonSchema }>>;
  /**
   * `required`: behind the caller authorizer (AUTH_MODE=jwt); `public`: no credential (or the
   * body carries one, as a join code); `prosody`: the reservation API key, never a caller JWT.
   */
  caller: 'required' | 'public' | 'prosody';
  /** How a body is encoded: JSON (the default) or a form (Prosody's reservation module). */
  bodyFormat?: 'json' | 'form';
  /** `prosody` routes: which bearer key (the reservation module's, or the event sync component's). */
  key?: 'reservations' | 'events';
  /** A JSON body's limit, when not the default 8 KiB. */
  maxBodyBytes?: number;
  /** Fields the schema does not name: refused (the default), or dropped unread. */
  unknownFields?: 'refuse' | 'ignore';
  /**
   * The Lambda function that runs the route (a key of FUNCTIONS), or `local-server` for a route
   * the local server alone serves.
   */
  runsIn: FunctionKey | 'local-server';
  /** Deployed only in this signing mode (the RS256 public keys mean nothing with HS256). */
  onlyWithSigning?: 'rs256';
  /** A request body the developer console offers (a start time and a token are filled in there). */
  example?: Readonly<Record<string, unknown>>;
}

const row = <S extends RequestSchema = Record<never, never>, P extends RequestSchema = Record<never, never>, Q extends RequestSchema = Record<never, never>>(
  definition: RouteDefinition<S, P, Q>,
): RouteDefinition<S, P, Q> => Object.freeze(definition);

/** The four events Prosody's event sync component posts to `<api_prefix>/events/...`: one row each, one handler module. */
function jitsiEventRow(kind: string, path: string, what: string) {
  return row({
    name: `jitsi-event-${kind}`,
    method: 'POST',
    path: `/api/jitsi/events/${path}`,
    entry: `functions/jitsi-event-${kind}.ts`,
    summary: `Prosody's event sync component: ${what} An appointment's room is recorded (ids and times; names and emails are dropped unread), an ad-hoc room counted.`,
    request: jitsiEventRequest,
    store: [...DECIDES_BY_ROOM, 'dynamodb:DeleteItem'],
    response: { contentType: 'application/json', description: 'Received', schema: jitsiEventResponse },
    caller: 'prosody',
    key: 'events',
    maxBodyBytes: 256 * 1024,
    unknownFields: 'ignore',
    runsIn: 'reservationsApi',
  });
}

export const ROUTES = {
  generateToken: row({
    name: 'generate-token',
    method: 'POST',
    path: '/api/jitsi/generate-token',
    entry: 'functions/generate-token.ts',
    summary: 'Mint a Jitsi token for one user in one room.',
    request: generateTokenRequest,
    store: DECIDES_BY_ROOM,
    response: { contentType: 'application/json', description: 'OK', schema: tokenResponse },
    caller: 'required',
    runsIn: 'callerApi',
    example: { roomName: 'test-room-123', userName: 'Test User', isModerator: true, expiresIn: 3600 },
  }),
  createRoom: row({
    name: 'create-room',
    method: 'POST',
    path: '/api/jitsi/create-room',
    entry: 'functions/create-room.ts',
    summary: 'Create the room of an appointment, with a therapist and a client token.',
    request: createRoomRequest,
    store: DECIDES,
    response: { contentType: 'application/json', description: 'OK', schema: createRoomResponse },
    caller: 'required',
    runsIn: 'callerApi',
    example: {
      appointmentId: 'appt-456',
      therapistId: 'therapist-123',
      clientId: 'client-789',
      scheduledStartTime: '',
      therapistName: 'Dr. Sarah Johnson',
      clientName: 'Alex',
    },
  }),
  validateToken: row({
    name: 'validate-token',
    method: 'POST',
    path: '/api/jitsi/validate-token',
    entry: 'functions/validate-token.ts',
    summary: 'Check whether Jitsi would accept a token (optionally for a room), with a reason when not.',
    request: validateTokenRequest,
    store: ['dynamodb:GetItem', 'dynamodb:Query'],
    response: { contentType: 'application/json', description: 'OK', schema: validateTokenResponse },
    caller: 'required',
    runsIn: 'callerApi',
    example: { token: '', roomName: 'test-room-123' },
  }),
  refreshToken: row({
    name: 'refresh-token',
    method: 'POST',
    path: '/api/jitsi/refresh-token',
    entry: 'functions/refresh-token.ts',
    summary: 'Renew a token this service issued, for the same room, role and identity.',
    request: refreshTokenRequest,
    store: DECIDES_BY_ROOM,
    response: { contentType: 'application/json', description: 'OK', schema: tokenResponse },
    caller: 'required',
    runsIn: 'callerApi',
    example: { token: '' },
  }),
  jitsiKeys: row({
    name: 'jitsi-keys',
    method: 'GET',
    path: '/api/jitsi/keys/{keyFile}',
    entry: 'functions/jitsi-keys.ts',
    summary: "RS256 mode: the public keys for Prosody's asap_key_server.",
    pathParameters: { keyFile: { type: 'string', pattern: KEY_FILE_PATTERN.source } },
    onlyWithSigning: 'rs256',
    runsIn: 'publicKeys',
    // The keys the signing function published (lib/store/public-keys.ts): never the private key itself.
    store: ['dynamodb:GetItem'],
    usesAppSecret: false,
    response: { contentType: 'application/x-pem-file', description: 'The PEM public key', schema: pemResponse },
    caller: 'public',
  }),
  getAppointment: row({
    name: 'get-appointment',
    method: 'GET',
    path: '/api/jitsi/appointments/{appointmentId}',
    entry: 'functions/get-appointment.ts',
    summary: "An appointment's status and window, for its therapist and client (ids and times only).",
    params: appointmentPath,
    query: requesterQuery,
    store: ['dynamodb:Query', 'dynamodb:UpdateItem'],
    response: { contentType: 'application/json', description: 'OK', schema: appointmentResponse },
    caller: 'required',
    runsIn: 'callerApi',
  }),
  moveAppointment: row({
    name: 'move-appointment',
    method: 'PATCH',
    path: '/api/jitsi/appointments/{appointmentId}',
    entry: 'functions/move-appointment.ts',
    summary: 'Move an appointment to a new time (its therapist only): tokens issued for the old time can no longer be refreshed.',
    request: moveAppointmentRequest,
    params: appointmentPath,
    query: requesterQuery,
    store: DECIDES,
    response: { contentType: 'application/json', description: 'The moved appointment', schema: appointmentResponse },
    caller: 'required',
    runsIn: 'callerApi',
    example: { scheduledStartTime: '', durationMinutes: 50 },
  }),
  cancelAppointment: row({
    name: 'cancel-appointment',
    method: 'DELETE',
    path: '/api/jitsi/appointments/{appointmentId}',
    entry: 'functions/cancel-appointment.ts',
    summary: 'Cancel an appointment (its therapist only): no token is issued or refreshed for it afterwards.',
    params: appointmentPath,
    query: requesterQuery,
    store: DECIDES,
    response: { contentType: 'application/json', description: 'The cancelled appointment', schema: appointmentResponse },
    caller: 'required',
    runsIn: 'callerApi',
  }),
  appointmentAudit: row({
    name: 'appointment-audit',
    method: 'GET',
    path: '/api/jitsi/appointments/{appointmentId}/audit',
    entry: 'functions/appointment-audit.ts',
    summary:
      "An appointment's audit trail (its therapist only), newest first, a page at a time: every change and token, and the refusals (one record per asker, reason and day, with a count).",
    params: appointmentPath,
    query: trailQuery,
    store: ['dynamodb:Query', 'dynamodb:UpdateItem'],
    response: { contentType: 'application/json', description: 'OK', schema: auditTrailResponse },
    caller: 'required',
    runsIn: 'callerApi',
  }),
  createJoinLink: row({
    name: 'create-join-link',
    method: 'POST',
    path: '/api/jitsi/appointments/{appointmentId}/join-links',
    entry: 'functions/create-join-link.ts',
    summary: "A single-use join link for the appointment's client (its therapist only): a code to exchange for the client's token.",
    params: appointmentPath,
    query: requesterQuery,
    store: DECIDES,
    response: { contentType: 'application/json', description: 'Created', schema: joinLinkResponse, status: 201 },
    caller: 'required',
    runsIn: 'callerApi',
  }),
  exchangeJoinLink: row({
    name: 'exchange-join-link',
    method: 'POST',
    path: '/api/jitsi/join-links/exchange',
    entry: 'functions/exchange-join-link.ts',
    summary: "Exchange a join link's code, once, for the client's token and the Jitsi URL (no caller token: the code is the credential).",
    request: exchangeJoinLinkRequest,
    store: DECIDES_BY_ROOM,
    response: { contentType: 'application/json', description: 'OK', schema: joinLinkTokenResponse },
    caller: 'public',
    runsIn: 'callerApi',
  }),
  reservationCreate: row({
    name: 'reservation-create',
    method: 'POST',
    path: '/api/jitsi/reservations/conference',
    entry: 'functions/reservation-create.ts',
    summary: "Prosody's reservation module: may this room exist, and for how long (form-encoded; the reservation API key).",
    request: reservationRequest,
    bodyFormat: 'form',
    store: DECIDES_BY_ROOM,
    response: { contentType: 'application/json', description: 'The room may exist until start_time + duration', schema: reservationResponse },
    otherResponses: { 409: { description: 'The room is open already: Prosody asks GET /conference/{conflict_id}', schema: reservationConflictResponse } },
    caller: 'prosody',
    runsIn: 'reservationsApi',
  }),
  reservationGet: row({
    name: 'reservation-get',
    method: 'GET',
    path: '/api/jitsi/reservations/conference/{id}',
    entry: 'functions/reservation-get.ts',
    summary: "Prosody's reservation module: an open room's reservation, after a 409.",
    params: conferencePath,
    store: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
    response: { contentType: 'application/json', description: 'OK', schema: reservationResponse },
    caller: 'prosody',
    runsIn: 'reservationsApi',
  }),
  reservationDelete: row({
    name: 'reservation-delete',
    method: 'DELETE',
    path: '/api/jitsi/reservations/conference/{id}',
    entry: 'functions/reservation-delete.ts',
    summary: "Prosody's reservation module: the room was destroyed.",
    params: conferencePath,
    store: DECIDES_BY_ROOM,
    response: { contentType: 'application/json', description: 'Closed', schema: conferenceClosedResponse },
    caller: 'prosody',
    runsIn: 'reservationsApi',
  }),
  attendance: row({
    name: 'appointment-attendance',
    method: 'GET',
    path: '/api/jitsi/appointments/{appointmentId}/attendance',
    entry: 'functions/appointment-attendance.ts',
    summary:
      "Who came to an appointment's session, as Jitsi reported it (its therapist and client): first join, last leave, minutes present, minutes together, anyone unexpected, and the status.",
    params: appointmentPath,
    query: requesterQuery,
    store: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
    response: { contentType: 'application/json', description: 'OK', schema: attendanceResponse },
    caller: 'required',
    runsIn: 'callerApi',
  }),
  endMeeting: row({
    name: 'end-meeting',
    method: 'POST',
    path: '/api/jitsi/appointments/{appointmentId}/end',
    entry: 'functions/end-meeting.ts',
    summary: "The therapist ends the appointment's meeting in Jitsi now (Prosody's end-meeting endpoint, when END_MEETING_URL is set); recorded on the trail.",
    params: appointmentPath,
    query: requesterQuery,
    store: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    response: { contentType: 'application/json', description: 'Done', schema: endMeetingResponse },
    problems: { 501: 'This deployment does not end meetings: END_MEETING_URL is not set (not-configured)' },
    caller: 'required',
    runsIn: 'callerApi',
  }),
  roomCreatedEvent: jitsiEventRow('room-created', 'room/created', 'A room was created.'),
  roomDestroyedEvent: jitsiEventRow('room-destroyed', 'room/destroyed', 'A room was destroyed, with everyone who was in it.'),
  occupantJoinedEvent: jitsiEventRow('occupant-joined', 'occupant/joined', 'Someone joined a room.'),
  occupantLeftEvent: jitsiEventRow('occupant-left', 'occupant/left', 'Someone left a room.'),
  openApi: row({
    name: 'openapi-document',
    method: 'GET',
    path: '/openapi.json',
    entry: 'infra/local/openapi-route.ts',
    summary: 'This API description (local server only).',
    response: { contentType: 'application/json', description: 'The OpenAPI 3.1 document', schema: { type: 'object' } },
    store: [],
    caller: 'public',
    runsIn: 'local-server',
  }),
} as const;

export type RouteKey = keyof typeof ROUTES;

/** What Prosody's reservations_api_prefix is: the reservation routes' path without /conference. */
export const RESERVATIONS_API_PREFIX = ROUTES.reservationCreate.path.replace(/\/conference$/, '');

/** Every route, in table order. */
export const routes: readonly RouteDefinition[] = Object.values(ROUTES) as RouteDefinition[];

/** The routes the stack deploys (and sam local runs). */
export const deployedRoutes: readonly RouteDefinition[] = routes.filter((route) => route.runsIn !== 'local-server');

/** The routes a deployment has in a signing mode. */
export const routesDeployedWith = (signing: string): readonly RouteDefinition[] =>
  deployedRoutes.filter((route) => route.onlyWithSigning === undefined || route.onlyWithSigning === signing);

/** API Gateway's name for a route, as a function's event carries it in `routeKey`. */
export const routeKeyOf = (route: Pick<RouteDefinition, 'method' | 'path'>): string => `${route.method} ${route.path}`;

/** The function that runs a route, or undefined for a route the local server alone serves. */
export const functionOf = (route: Pick<RouteDefinition, 'runsIn'>): FunctionDefinition | undefined =>
  route.runsIn === 'local-server' ? undefined : FUNCTIONS[route.runsIn];

/** The routes one function runs (in table order), of the given routes. */
export const routesOf = (fn: FunctionDefinition, table: readonly RouteDefinition[] = deployedRoutes): readonly RouteDefinition[] =>
  table.filter((route) => functionOf(route) === fn);

/** The functions a deployment has in a signing mode: those with at least one of its routes. */
export const functionsDeployedWith = (signing: string): readonly FunctionDefinition[] =>
  Object.values(FUNCTIONS).filter((fn) => routesOf(fn, routesDeployedWith(signing)).length > 0);

/** Whether a route's handler uses the app secret (the row's `usesAppSecret`, else: any route but Prosody's). */
export const routeUsesAppSecret = (route: Pick<RouteDefinition, 'usesAppSecret' | 'caller'>): boolean => route.usesAppSecret ?? route.caller !== 'prosody';

/** What decides a function's grants besides its routes: the deployment's settings. */
export interface FunctionNeeds {
  /** END_MEETING_URL is set: the jobs end cancelled meetings, signing a token to do so. */
  endsMeetings: boolean;
  /** The signing mode: in RS256 a function that signs publishes its public key (lib/store/public-keys.ts). */
  signing: string;
}

/** Whether a function may read the app secret: one of its routes uses it, or its jobs end meetings. */
export const readsAppSecret = (
  fn: Pick<FunctionDefinition, 'runsJobs'>,
  routesOfFunction: readonly RouteDefinition[],
  needs: Pick<FunctionNeeds, 'endsMeetings'>,
): boolean => routesOfFunction.some(routeUsesAppSecret) || (fn.runsJobs === true && needs.endsMeetings);

/** In RS256 mode, a function that signs keeps its public key served (a conditional UpdateItem, and a GetItem when the condition fails). */
const PUBLISHES_PUBLIC_KEY: readonly StoreAction[] = ['dynamodb:GetItem', 'dynamodb:UpdateItem'];

/** A function's table actions: the union of its routes' (its IAM grant is exactly these), and what publishing its RS256 key takes. */
export const storeActionsOf = (routesOfFunction: readonly RouteDefinition[], publishesPublicKey = false): readonly StoreAction[] =>
  [...new Set([...routesOfFunction.flatMap((route) => route.store), ...(publishesPublicKey ? PUBLISHES_PUBLIC_KEY : [])])].sort();

/** Whether a function may read Prosody's reservation key: only if one of its routes is Prosody's. */
export const readsReservationKey = (routesOfFunction: readonly RouteDefinition[]): boolean =>
  routesOfFunction.some((route) => route.caller === 'prosody' && (route.key ?? 'reservations') === 'reservations');
/** Whether a function's routes check the event sync component's key. */
export const readsEventsKey = (routesOfFunction: readonly RouteDefinition[]): boolean =>
  routesOfFunction.some((route) => route.caller === 'prosody' && route.key === 'events');
/** Whether a function's routes record decisions, and so tell the platform (events:PutEvents on the stack's bus). */
export const publishesEvents = (routesOfFunction: readonly RouteDefinition[]): boolean =>
  routesOfFunction.some((route) => route.store.includes('dynamodb:PutItem'));
/** Where Prosody's event sync component posts (its api_prefix): the four event routes' common prefix. */
export const EVENTS_API_PREFIX = '/api/jitsi';

/** Matches a request path against a route path, returning its path parameters (or undefined). */
export function matchRoute(route: Pick<RouteDefinition, 'path'>, path: string): Record<string, string> | undefined {
  const expected = route.path.split('/');
  const actual = path.split('/');
  if (expected.length !== actual.length) return undefined;
  const parameters: Record<string, string> = {};
  for (const [index, segment] of expected.entries()) {
    const value = actual[index]!;
    const parameter = /^\{(\w+)\}$/.exec(segment)?.[1];
    if (parameter !== undefined) {
      if (value === '') return undefined;
      try {
        parameters[parameter] = decodeURIComponent(value);
      } catch {
        return undefined;
      }
    } else if (segment !== value) return undefined;
  }
  return parameters;
}
