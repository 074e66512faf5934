// The response shapes of the routes as JSON Schema: the route table names each route's, the API
// description publishes them, and the tests check real responses against them.
import type { InvalidReason } from './token.ts';

export type JsonSchema = Readonly<Record<string, unknown>>;

/** Every reason validate-token can give (the API description lists them). */
export const INVALID_REASONS: readonly InvalidReason[] = [
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
  required: ['token', 'roomName', 'joinUrl', 'expiresAt', 'moderator'],
  additionalProperties: false,
  properties: {
    token: jwtString,
    roomName: { type: 'string' },
    joinUrl: { type: 'string', format: 'uri' },
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

export const validateTokenResponse: JsonSchema = {
  oneOf: [
    {
      type: 'object',
      required: ['valid', 'expiresAt', 'room', 'moderator', 'userId'],
      additionalProperties: false,
      properties: {
        valid: { const: true },
        expiresAt: isoDateTime,
        room: { type: 'string' },
        moderator: { type: 'boolean' },
        userId: { type: ['string', 'null'] },
      },
    },
    { type: 'object', required: ['valid', 'reason'], additionalProperties: false, properties: { valid: { const: false }, reason: { enum: INVALID_REASONS } } },
  ],
};

export const pemResponse: JsonSchema = { type: 'string' };
