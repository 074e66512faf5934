// The request shapes of the routes (the seed's shapes, plus optional fields): the one source for
// validation and for the API description. The route table (lib/routes.ts) names each route's.
import { SETTINGS } from './config.ts';
import { invalidField, TooLargeError } from './errors.ts';
import { REQUESTED_ROOM_NAME, ROOM_NAME_PATTERN, ROOM_NAME_RULE } from './room.ts';
import { booleanField, enumField, integerField, optionalityOf, parseText, textField, type FieldSpec, type Infer } from './schema.ts';

export const MAX_TOKEN_BYTES = 4 * 1024;

const displayName = (description: string) =>
  textField(description, { maxChars: 128, maxBytes: 512, humanText: true }, 'a display name (any script, 1 to 128 characters)');

/** An appointment id as the platform makes it (e.g. "-7-0-1731571200000"): any visible ASCII, at most 128. */
const appointmentIdentifier = (description: string) =>
  textField(description, { maxChars: 128, maxBytes: 128, pattern: /^[!-~]{1,128}$/ }, 'an id of visible ASCII characters (no spaces, at most 128)');

/**
 * A user id: a body's, and a caller's subject (lib/policy.ts). Every id the README's identity
 * providers issue fits: Cognito subs, Auth0's `auth0|…` and `google-oauth2|…`, Firebase uids and
 * push ids (`-NxY7…`), numeric ids, emails used as ids. Refused: spaces, quotes, slashes, angle
 * brackets and controls (they break logs, paths and markup), and a first character of
 * `= + @ . : |` (a spreadsheet reads `=`, `+`, `@` as a formula when a platform exports its audit).
 */
export const USER_ID_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._:@|+=-]{0,127}$/;

/** An email address: a body's, and a caller's verified claim (lib/policy.ts). */
export const EMAIL_PATTERN =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
export const EMAIL_MAX_CHARS = 254;

const identifier = (description: string) =>
  textField(
    description,
    { maxChars: 128, maxBytes: 128, pattern: USER_ID_PATTERN },
    'an id of letters, digits and . _ : @ | + = - (at most 128; starting with a letter, a digit, _ or -)',
  );

const email = textField(
  'Email address; shown to other participants when present.',
  { maxChars: EMAIL_MAX_CHARS, maxBytes: EMAIL_MAX_CHARS, pattern: EMAIL_PATTERN },
  'an email address',
  { format: 'email' },
);

/** An https URL on a host name (never an IP literal), no credentials, no port, plain characters only. */
const AVATAR_URL =
  /^https:\/\/([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.[a-z]{2,63})(?:\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?(?:\?[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*)?$/;

/**
 * An avatar's URL, from a host the operator allows only: every participant's browser fetches
 * it, so any other host could track who joins. With no hosts allowed, no avatar is accepted.
 */
export function avatarUrl(hosts: readonly string[]) {
  return optionalityOf<string>({
    jsonSchema: {
      type: 'string',
      format: 'uri',
      maxLength: 2048,
      description: `https URL of the avatar picture, on a host in ${SETTINGS.avatarHosts.variable}; shown to other participants.`,
    },
    parse(value, field) {
      const url = parseText(value, field, { maxChars: 2048, maxBytes: 2048 }, 'an https URL');
      const host = AVATAR_URL.exec(url)?.[1];
      if (host === undefined) throw invalidField(field, 'must be an https URL on a host name (no IP address, port or credentials)');
      if (!hosts.includes(host)) throw invalidField(field, `must be on a host this deployment allows (${SETTINGS.avatarHosts.variable})`);
      return url;
    },
  });
}

/**
 * A room name as a client builds it (capitals allowed: the web client lowercases the room it
 * joins and Prosody compares the claim lowercased), returned in the lowercase form that goes
 * into the token and the join URL. Anything URL-encoding or normalisation would change is refused.
 */
const roomName = (() => {
  const field = textField(
    'Jitsi room name; returned lowercased, the form in the token.',
    { maxChars: 128, maxBytes: 128, pattern: REQUESTED_ROOM_NAME },
    ROOM_NAME_RULE,
  );
  const lowercased = (spec: typeof field.optional | typeof field.required) => ({
    ...spec,
    parse: (value: unknown, name: string) => spec.parse(value, name).toLowerCase(),
  });
  return { optional: lowercased(field.optional), required: lowercased(field.required) };
})();
const tenant = textField(
  `Tenant for multi-tenant Jitsi URLs (https://<domain>/<tenant>/<room>): it becomes the \`sub\` claim. Defaults to ${SETTINGS.defaultTenant.variable}.`,
  { maxChars: 128, maxBytes: 128, pattern: ROOM_NAME_PATTERN },
  'a tenant name of lowercase letters a-z, digits, "_" or "-", starting with a letter or digit, at most 128 characters',
);

const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2}))$/;

/** ISO-8601 date-time with an offset (`Z` or `±hh:mm`) naming a real instant; returns epoch ms. */
export function parseIsoDateTime(value: string): number | undefined {
  const match = ISO_DATE_TIME.exec(value);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second = '00', fraction = '', , offsetHour = '00', offsetMinute = '00'] = match;
  const daysInMonth = new Date(Date.UTC(Number(year), Number(month), 0)).getUTCDate();
  if (Number(month) < 1 || Number(month) > 12 || Number(day) < 1 || Number(day) > daysInMonth) return undefined;
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59 || Number(offsetHour) > 14 || Number(offsetMinute) > 59) return undefined;
  const milliseconds = Date.parse(value.replace(fraction, fraction.slice(0, 4)));
  return Number.isFinite(milliseconds) ? milliseconds : undefined;
}

/** A date-time with an offset, read into epoch milliseconds; `expected` completes "must be …". */
function dateTimeField(description: string, expected: string) {
  return optionalityOf<number>({
    jsonSchema: { type: 'string', format: 'date-time', maxLength: 40, description },
    parse(value, field) {
      const parsed = typeof value === 'string' && value.length <= 40 ? parseIsoDateTime(value) : undefined;
      if (parsed === undefined) throw invalidField(field, `must be ${expected}`);
      return parsed;
    },
  });
}

const scheduledStartTime = dateTimeField(
  'Appointment start, ISO-8601 with an offset, e.g. 2026-11-14T10:00:00Z.',
  'an ISO-8601 date-time with an offset, e.g. 2026-11-14T10:00:00Z',
).required;

/** The token to check: any string up to 4 KiB; whatever it holds is a verdict, not an error. */
const tokenToCheck = {
  required: true as const,
  jsonSchema: { type: 'string', maxLength: MAX_TOKEN_BYTES, description: 'The Jitsi JWT to check.' },
  parse(value: unknown, field: string): string {
    if (typeof value !== 'string') throw invalidField(field, 'must be a string');
    if (Buffer.byteLength(value, 'utf8') > MAX_TOKEN_BYTES) {
      throw new TooLargeError(field, `must be at most ${MAX_TOKEN_BYTES} bytes`);
    }
    return value;
  },
} satisfies FieldSpec<string, true>;

export interface RequestLimits {
  tokenTtlMaxSeconds: number;
  /** Hosts avatar URLs may name. */
  avatarHosts: readonly string[];
}

export function generateTokenRequest(limits: RequestLimits) {
  return {
    roomName: {
      ...roomName.optional,
      jsonSchema: {
        ...roomName.optional.jsonSchema,
        description: 'Jitsi room name. Required unless appointmentId names a registered appointment (whose room is used).',
      },
    },
    userName: displayName('Display name shown in the meeting. Required unless the caller token carries a name.').optional,
    userEmail: email.optional,
    userId: identifier('User id. With caller authentication it must equal the caller (or be omitted).').optional,
    userAvatar: avatarUrl(limits.avatarHosts).optional,
    isModerator: booleanField('Ask for the moderator role. With caller authentication the caller must hold the role.').optional,
    appointmentId: appointmentIdentifier(
      "A registered appointment: the token is the caller's own for it (room, role and window from the store). An unregistered id is ignored (ad-hoc room).",
    ).optional,
    expiresIn: integerField(
      "Token lifetime in seconds. For an appointment it shortens the token (counted from the window's opening if that is later), never past the window's close.",
      60,
      limits.tokenTtlMaxSeconds,
      'seconds',
    ).optional,
    tenant: tenant.optional,
  } as const;
}

export function createRoomRequest() {
  return {
    appointmentId: appointmentIdentifier('The appointment id; the same id always gets the same room.').required,
    therapistId: identifier('The therapist (moderator). With caller authentication it must be the caller (or be omitted).').optional,
    clientId: identifier('The client (participant).').required,
    scheduledStartTime,
    durationMinutes: integerField('Planned length of the appointment.', 5, 720, 'minutes').optional,
    callType: enumField('Kind of call.', ['video', 'audio'] as const).optional,
    therapistName: displayName('Therapist display name.').optional,
    clientName: displayName('Client display name.').optional,
    tenant: tenant.optional,
  } as const;
}

export function validateTokenRequest() {
  return {
    token: tokenToCheck,
    roomName: {
      ...roomName.optional,
      jsonSchema: { ...roomName.optional.jsonSchema, description: 'Also check that Jitsi would let the holder into this room.' },
    },
    tenant: tenant.optional,
  } as const;
}

export function refreshTokenRequest() {
  return { token: tokenToCheck } as const;
}

export type GenerateTokenInput = Infer<ReturnType<typeof generateTokenRequest>>;
export type CreateRoomInput = Infer<ReturnType<typeof createRoomRequest>>;
export type ValidateTokenInput = Infer<ReturnType<typeof validateTokenRequest>>;
export type RefreshTokenInput = Infer<ReturnType<typeof refreshTokenRequest>>;

/** A new time for an appointment (PATCH on the appointment). */
export function moveAppointmentRequest() {
  return {
    scheduledStartTime,
    durationMinutes: integerField('Planned length of the appointment.', 5, 720, 'minutes').optional,
  } as const;
}

/** The appointment resource's path. */
export function appointmentPath() {
  return { appointmentId: appointmentIdentifier('The appointment id.').required } as const;
}

/** Who asks, without caller authentication: the therapist's or client's id. */
export function requesterQuery() {
  return {
    userId: identifier(
      `Without caller authentication (${SETTINGS.authMode.variable}=none): the id of the therapist or client asking. With it: the caller (or omitted).`,
    ).optional,
  } as const;
}

/** The audit trail's query: who asks, and where the page starts (the `next` of the page before). */
export function trailQuery() {
  return {
    ...requesterQuery(),
    cursor: textField(
      'Where this page starts: the `next` value of the page before. Omitted: the newest records.',
      { maxChars: 2048, maxBytes: 2048, pattern: /^[A-Za-z0-9_-]+$/ },
      'the `next` value of the trail page before',
    ).optional,
  } as const;
}

export type MoveAppointmentInput = Infer<ReturnType<typeof moveAppointmentRequest>>;

/** What Prosody sends for a room: `[tenant]room` for tenant URLs, else the room. */
export const CONFERENCE_NAME = /^(?:\[([a-z0-9][a-z0-9_-]{0,127})\])?([a-z0-9][a-z0-9_-]{0,127})$/;
/** Our conference id: the room, after `<tenant>~` for tenants (URL-safe, maps back to the room). */
export const CONFERENCE_ID = /^(?:[a-z0-9][a-z0-9_-]{0,127}~)?[a-z0-9][a-z0-9_-]{0,127}$/;

/** POST <prefix>/conference, form-encoded, as mod_reservations sends it. */
export function reservationRequest() {
  return {
    name: textField(
      'The room (`[tenant]room` for tenant URLs), as Prosody names it.',
      { maxChars: 260, maxBytes: 260, pattern: CONFERENCE_NAME },
      'a room name, optionally after [tenant]',
    ).required,
    start_time: dateTimeField('When Prosody got the request: yyyy-MM-ddTHH:mm:ss.SSSZ.', 'a date-time such as 2026-11-25T10:00:00.000Z').required,
    mail_owner: textField(
      "The room creator's address (Prosody sends an anonymous XMPP id).",
      { maxChars: 320, maxBytes: 320, pattern: /^[^\s<>"\\]{1,320}$/ },
      'an XMPP address',
    ).required,
  } as const;
}

/** GET and DELETE <prefix>/conference/{id}. */
export function conferencePath() {
  return {
    id: textField('The conference id the POST answered.', { maxChars: 260, maxBytes: 260, pattern: CONFERENCE_ID }, 'a conference id').required,
  } as const;
}

/** Exchanging a single-use join link for the client's token. */
export function exchangeJoinLinkRequest() {
  return {
    code: textField('The code of the join link.', { maxChars: 64, maxBytes: 64, pattern: /^[A-Za-z0-9_-]{43}$/ }, 'a join code (43 characters of base64url)')
      .required,
    userName: displayName('The display name to show in the meeting.').optional,
  } as const;
}

/** One occupant as Prosody's event sync component reports it: only its address, id and times are read (names and emails are dropped unread). */
export interface ReportedOccupant {
  occupantJid: string;
  userId: string | undefined;
  joinedAt: number;
  leftAt: number | undefined;
}

const EPOCH_SECONDS_MAX = 32_503_680_000; // year 3000
const epochSeconds = (value: unknown, field: string): number => {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > EPOCH_SECONDS_MAX) {
    throw invalidField(field, 'must be whole seconds since the epoch (a JSON number)');
  }
  return value;
};
const OCCUPANT_JID = /^[^\s@/]{1,1023}@[A-Za-z0-9.-]{1,253}\/[^\s]{1,1023}$/;
const USER_ID_VALUE = /^[!-~]{1,128}$/;

function occupantOf(value: unknown, field: string): ReportedOccupant {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidField(field, 'must be an object');
  const occupant = value as Record<string, unknown>;
  const jid = occupant.occupant_jid;
  if (typeof jid !== 'string' || jid.length > 2048 || !OCCUPANT_JID.test(jid))
    throw invalidField(`${field}.occupant_jid`, 'must be an occupant address (room@domain/nick)');
  // The token's context.user.id; anything that is not an id is treated as no id (flagged as unexpected, never stored).
  const id =
    typeof occupant.id === 'string' && USER_ID_VALUE.test(occupant.id)
      ? occupant.id
      : typeof occupant.id === 'number' && Number.isSafeInteger(occupant.id)
        ? String(occupant.id)
        : undefined;
  const joinedAt = epochSeconds(occupant.joined_at, `${field}.joined_at`);
  const leftAt = occupant.left_at === undefined || occupant.left_at === null ? undefined : epochSeconds(occupant.left_at, `${field}.left_at`);
  return { occupantJid: jid, userId: id, joinedAt, leftAt };
}

const occupantField = optionalityOf<ReportedOccupant>({
  jsonSchema: {
    type: 'object',
    description: "The occupant, from the token's context.user (name and email are ignored and never stored).",
    required: ['occupant_jid', 'joined_at'],
    properties: { occupant_jid: { type: 'string' }, id: { type: 'string' }, joined_at: { type: 'integer' }, left_at: { type: 'integer' } },
  },
  parse: occupantOf,
});

const occupantsField = optionalityOf<ReportedOccupant[]>({
  jsonSchema: { type: 'array', maxItems: 1000, items: occupantField.required.jsonSchema, description: 'Everyone who was in the room (room destroyed only).' },
  parse(value, field) {
    if (!Array.isArray(value) || value.length > 1000) throw invalidField(field, 'must be an array of at most 1000 occupants');
    return value.map((occupant, index) => occupantOf(occupant, `${field}[${index}]`));
  },
});

/** The events Prosody's event sync component (jitsi-contrib mod_event_sync_component) posts; other fields it may add are ignored. */
export function jitsiEventRequest() {
  const text = (description: string) => textField(description, { maxChars: 1100, maxBytes: 1100, pattern: /^[^\s]{1,1100}$/ }, 'a room name or address');
  return {
    event_name: enumField('Which event.', ['muc-room-created', 'muc-room-destroyed', 'muc-occupant-joined', 'muc-occupant-left']).required,
    room_name: text('The room (for a breakout room: its main room), as the node of its address: `room` or `[tenant]room`.').required,
    room_jid: text("The room's address, `room@conference.<domain>`.").optional,
    is_breakout: booleanField('A breakout room of the main room named.').optional,
    breakout_room_id: text('The breakout room.').optional,
    created_at: integerField('When the room was created (seconds since the epoch).', 0, EPOCH_SECONDS_MAX, 'seconds').optional,
    destroyed_at: integerField('When the room was destroyed (seconds since the epoch).', 0, EPOCH_SECONDS_MAX, 'seconds').optional,
    active_occupants_count: integerField('How many are in the room now.', 0, 100_000, 'occupants').optional,
    occupant: occupantField.optional,
    all_occupants: occupantsField.optional,
  } as const;
}

export type JitsiEventInput = Infer<ReturnType<typeof jitsiEventRequest>>;
