// The response shapes of the routes as JSON Schema: the route table names each route's, the API
// description publishes them, and the tests check real responses against them.
import { SETTINGS } from './config.ts';
import type { InvalidReason } from './token.ts';

export type JsonSchema = Readonly<Record<string, unknown>>;

/** Every reason validate-token can give (the API description lists them). */
export const INVALID_REASONS: readonly (InvalidReason | 'appointment_cancelled' | 'appointment_moved')[] = [
  'appointment_cancelled',
  'appointment_moved',
  'malformed',
  'wrong_typ',
  'wrong_alg',
  'bad_signature',
  'expired',
  'not_yet_valid',
  'missing_claim',
  'wrong_issuer',
  'wrong_audience',
  'sub_mismatch',
  'wildcard',
  'room_mismatch',
  'lifetime_too_long',
];

const isoDateTime = { type: 'string', format: 'date-time' };
const jwtString = {
  type: 'string',
  pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$',
  description: 'A Jitsi JWT: treat it as a bearer credential.',
};

export const tokenResponse: JsonSchema = {
  type: 'object',
  required: ['token', 'roomName', 'joinUrl', 'notBefore', 'expiresAt', 'moderator'],
  additionalProperties: false,
  properties: {
    token: jwtString,
    roomName: { type: 'string', description: 'The room the token is for (for an appointment: its room, whatever roomName asked).' },
    requestedRoomName: {
      type: 'string',
      description: "Present when the request named another room than the one used: an appointment's token is always for the appointment's room.",
    },
    joinUrl: { type: 'string', format: 'uri' },
    notBefore: { ...isoDateTime, description: 'The token is valid from here (its nbf): an appointment token asked for early waits for the window.' },
    expiresAt: isoDateTime,
    moderator: { type: 'boolean' },
  },
};

export const createRoomResponse: JsonSchema = {
  type: 'object',
  required: ['roomName', 'joinUrl', 'therapistToken', 'clientToken', 'notBefore', 'expiresAt', 'callType'],
  additionalProperties: false,
  properties: {
    roomName: { type: 'string' },
    joinUrl: { type: 'string', format: 'uri' },
    therapistToken: jwtString,
    clientToken: jwtString,
    notBefore: isoDateTime,
    expiresAt: isoDateTime,
    callType: { enum: ['video', 'audio'] },
  },
};

const signedWith = {
  enum: ['current', 'previous'],
  description: `Which version of the app secret (or RS256 key) signed the token: \`previous\` (AWSPREVIOUS) only within ${SETTINGS.secretRotationOverlapSeconds.variable} of a rotation.`,
};

export const validateTokenResponse: JsonSchema = {
  oneOf: [
    {
      type: 'object',
      required: ['valid', 'expiresAt', 'signedWith', 'room', 'moderator', 'userId'],
      additionalProperties: false,
      properties: {
        valid: { const: true },
        expiresAt: isoDateTime,
        signedWith,
        room: { type: 'string' },
        moderator: { type: 'boolean' },
        userId: { type: ['string', 'null'] },
      },
    },
    {
      type: 'object',
      required: ['valid', 'expiresAt', 'signedWith'],
      additionalProperties: false,
      description: "Valid, for a caller who is neither the token's holder nor the appointment's therapist: no identity, room or role.",
      properties: { valid: { const: true }, expiresAt: isoDateTime, signedWith },
    },
    { type: 'object', required: ['valid', 'reason'], additionalProperties: false, properties: { valid: { const: false }, reason: { enum: INVALID_REASONS } } },
  ],
};

export const appointmentResponse: JsonSchema = {
  type: 'object',
  required: ['appointmentId', 'status', 'role', 'scheduledStartTime', 'durationMinutes', 'windowOpensAt', 'windowClosesAt', 'version'],
  additionalProperties: false,
  properties: {
    appointmentId: { type: 'string' },
    status: { enum: ['scheduled', 'cancelled'] },
    role: { enum: ['therapist', 'client'], description: "The asker's role in the appointment." },
    scheduledStartTime: isoDateTime,
    durationMinutes: { type: 'integer' },
    windowOpensAt: isoDateTime,
    windowClosesAt: isoDateTime,
    version: { type: 'integer', description: 'Moves on every change.' },
  },
};

export const auditTrailResponse: JsonSchema = {
  type: 'object',
  required: ['appointmentId', 'records'],
  additionalProperties: false,
  properties: {
    appointmentId: { type: 'string' },
    records: {
      type: 'array',
      items: {
        type: 'object',
        required: ['at', 'action', 'actor', 'requestId'],
        additionalProperties: false,
        properties: {
          at: isoDateTime,
          action: { type: 'string' },
          actor: { type: 'string', description: 'The id of whoever asked (never a name).' },
          role: { enum: ['therapist', 'client'] },
          requestId: { type: 'string' },
          tokenHash: { type: 'string', description: 'SHA-256 of the issued token, base64url.' },
          note: { type: 'string' },
          count: {
            type: 'integer',
            minimum: 1,
            description: 'Refusals: how many this asker got for this reason that day (`at` is the first, `lastAt` the last).',
          },
          lastAt: isoDateTime,
        },
      },
    },
    next: { type: 'string', description: 'More records follow: pass this as `cursor` for the next page. Absent on the last page.' },
  },
};

export const pemResponse: JsonSchema = { type: 'string' };

export const reservationResponse: JsonSchema = {
  type: 'object',
  required: ['id', 'name', 'mail_owner', 'start_time', 'duration'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', description: 'The conference id for GET and DELETE (a string: Prosody mangles numbers).' },
    name: { type: 'string' },
    mail_owner: { type: 'string' },
    start_time: isoDateTime,
    duration: { type: 'integer', description: 'Seconds from start_time until Prosody destroys the room: the appointment window closes then.' },
    lobby: {
      const: true,
      description: `Appointment rooms open with the lobby on (${SETTINGS.reservationsLobby.variable}); Prosody applies it with reservations_enable_lobby_support.`,
    },
  },
};

export const reservationConflictResponse: JsonSchema = {
  type: 'object',
  required: ['conflict_id'],
  additionalProperties: false,
  properties: { conflict_id: { type: 'string', description: 'The open room: Prosody asks GET /conference/{conflict_id}.' } },
};

export const conferenceClosedResponse: JsonSchema = {
  type: 'object',
  required: ['id', 'openSeconds'],
  additionalProperties: false,
  properties: { id: { type: 'string' }, openSeconds: { type: 'integer', description: 'How long the room was open.' } },
};

export const joinLinkResponse: JsonSchema = {
  type: 'object',
  required: ['code', 'expiresAt'],
  additionalProperties: false,
  properties: {
    code: { type: 'string', description: 'Single use; a bearer credential until used.' },
    expiresAt: isoDateTime,
    joinLink: { type: 'string', format: 'uri', description: `${SETTINGS.joinLinkBaseUrl.variable}#code=<code>, when that setting is set.` },
  },
};

export const joinLinkTokenResponse: JsonSchema = {
  ...tokenResponse,
  required: [...(tokenResponse.required as string[]), 'jitsiUrl'],
  properties: {
    ...(tokenResponse.properties as object),
    jitsiUrl: { type: 'string', format: 'uri', description: 'The Jitsi URL with the token in its fragment (#jwt=), ready to open.' },
  },
};

export const jitsiEventResponse: JsonSchema = {
  type: 'object',
  required: ['received'],
  additionalProperties: false,
  properties: {
    received: { const: true },
    appointment: { type: 'boolean', description: "Whether the room is an appointment's (recorded) or ad-hoc (only counted)." },
  },
};

const memberAttendance: JsonSchema = {
  type: 'object',
  required: ['joined', 'present', 'minutesPresent'],
  additionalProperties: false,
  properties: {
    joined: { type: 'boolean' },
    present: { type: 'boolean', description: 'In the room now.' },
    firstJoinAt: isoDateTime,
    lastLeaveAt: isoDateTime,
    minutesPresent: { type: 'number', minimum: 0 },
  },
};

export const attendanceResponse: JsonSchema = {
  type: 'object',
  required: ['appointmentId', 'status', 'therapist', 'client', 'bothPresentMinutes', 'others'],
  additionalProperties: false,
  properties: {
    appointmentId: { type: 'string' },
    status: { enum: ['completed', 'client-no-show', 'therapist-no-show', 'in-progress', 'not-started', 'cancelled'] },
    therapist: memberAttendance,
    client: memberAttendance,
    bothPresentMinutes: { type: 'number', minimum: 0, description: 'Minutes the therapist and the client were in the room together.' },
    others: {
      type: 'array',
      description: 'Anyone else who was in the room (flagged): an id the appointment does not name, or none.',
      items: {
        type: 'object',
        required: ['userId', 'flagged', 'minutesPresent'],
        additionalProperties: false,
        properties: {
          userId: { type: ['string', 'null'] },
          flagged: { const: true },
          firstJoinAt: isoDateTime,
          lastLeaveAt: isoDateTime,
          present: { type: 'boolean' },
          joined: { type: 'boolean' },
          minutesPresent: { type: 'number', minimum: 0 },
        },
      },
    },
  },
};

export const endMeetingResponse: JsonSchema = {
  type: 'object',
  required: ['appointmentId', 'outcome', 'attempts'],
  additionalProperties: false,
  properties: {
    appointmentId: { type: 'string' },
    outcome: { enum: ['ended', 'not-running'], description: '`ended`: Jitsi destroyed the room; `not-running`: there was no meeting to end.' },
    attempts: { type: 'integer', minimum: 0 },
  },
};
