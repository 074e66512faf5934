// The OpenAPI 3.1 description, made from the route table and the same request schemas the
// handlers validate with; the response shapes are checked against real responses in the tests.
import { PROBLEM_TYPE_PREFIX, PROBLEM_TYPES } from './problem.ts';
import { requestSchemaFor, type RequestLimits } from './requests.ts';
import { toJsonSchema } from './schema.ts';
import type { InvalidReason } from './token.ts';

export interface DescribedRoute {
  name: string;
  method: 'POST' | 'GET';
  path: string;
  summary: string;
  public?: boolean;
}

const INVALID_REASONS: InvalidReason[] = ['malformed', 'wrong_typ', 'wrong_alg', 'bad_signature', 'expired', 'not_yet_valid', 'missing_claim', 'wrong_issuer', 'wrong_audience', 'sub_mismatch', 'wildcard', 'room_mismatch', 'lifetime_too_long'];

const isoDateTime = { type: 'string', format: 'date-time' };
const jwtString = { type: 'string', pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$', description: 'A Jitsi JWT: treat it as a bearer credential.' };
const tokenResponse = {
  type: 'object',
  required: ['token', 'roomName', 'joinUrl', 'expiresAt', 'moderator'],
  additionalProperties: false,
  properties: { token: jwtString, roomName: { type: 'string' }, joinUrl: { type: 'string', format: 'uri' }, expiresAt: isoDateTime, moderator: { type: 'boolean' } },
};

const RESPONSES: Record<string, Record<string, unknown>> = {
  'generate-token': tokenResponse,
  'refresh-token': tokenResponse,
  'create-room': {
    type: 'object',
    required: ['roomName', 'joinUrl', 'therapistToken', 'clientToken', 'notBefore', 'expiresAt', 'callType'],
    additionalProperties: false,
    properties: { roomName: { type: 'string' }, joinUrl: { type: 'string', format: 'uri' }, therapistToken: jwtString, clientToken: jwtString, notBefore: isoDateTime, expiresAt: isoDateTime, callType: { enum: ['video', 'audio'] } },
  },
  'validate-token': {
    oneOf: [
      {
        type: 'object',
        required: ['valid', 'expiresAt', 'room', 'moderator', 'userId'],
        additionalProperties: false,
        properties: { valid: { const: true }, expiresAt: isoDateTime, room: { type: 'string' }, moderator: { type: 'boolean' }, userId: { type: ['string', 'null'] } },
      },
      { type: 'object', required: ['valid', 'reason'], additionalProperties: false, properties: { valid: { const: false }, reason: { enum: INVALID_REASONS } } },
    ],
  },
};

const problemSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'requestId'],
  additionalProperties: false,
  properties: {
    type: { type: 'string', enum: Object.keys(PROBLEM_TYPES).map((type) => PROBLEM_TYPE_PREFIX + type) },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    field: { type: 'string', description: 'The request field at fault.' },
    requestId: { type: 'string' },
  },
};

const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } });

/** OpenAPI path syntax is API Gateway's: `{name}`. */
function operation(route: DescribedRoute, limits: RequestLimits): Record<string, unknown> {
  const responses: Record<string, unknown> = {};
  const errors: Record<string, string> = route.method === 'POST'
    ? { 400: 'Invalid input (the field is named)', 401: 'No valid caller token (with caller authentication)', 403: 'The caller may not do this', 413: 'Body or token too large', 415: 'Not JSON', 429: 'Throttled', 503: 'The signing secret is unavailable (Retry-After)' }
    : { 404: 'No such key (or HS256 mode)', 503: 'The signing secret is unavailable (Retry-After)' };
  if (route.method === 'GET') {
    responses['200'] = { description: 'The PEM public key', content: { 'application/x-pem-file': { schema: { type: 'string' } } } };
  } else {
    responses['200'] = { description: 'OK', content: { 'application/json': { schema: RESPONSES[route.name] } } };
  }
  for (const [status, description] of Object.entries(errors)) responses[status] = problemResponse(description);
  const request = requestSchemaFor(route.name, limits);
  const parameters = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => ({ name: match[1], in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9a-f]{64}\\.pem$' } }));
  return {
    operationId: route.name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase()),
    summary: route.summary,
    ...(route.public ? { security: [] } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(request ? { requestBody: { required: true, content: { 'application/json': { schema: toJsonSchema(request) } } } } : {}),
    responses,
  };
}

export function buildOpenApi(routes: readonly DescribedRoute[], limits: RequestLimits = { tokenTtlMaxSeconds: 86_400 }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) (paths[route.path] ??= {})[route.method.toLowerCase()] = operation(route, limits);
  return {
    openapi: '3.1.0',
    info: {
      title: 'jitsi-token-api',
      version: '0.1.0',
      description: 'Mints, checks and renews Jitsi Meet JWTs for a self-hosted Jitsi server. Limits shown are the defaults (TOKEN_TTL_MAX_SECONDS = 86400).',
    },
    servers: [{ url: 'http://localhost:3001', description: 'npm start' }],
    security: [{ callerJwt: [] }],
    paths,
    components: {
      securitySchemes: { callerJwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: "The caller's OIDC token (AUTH_MODE=jwt); not needed with AUTH_MODE=none." } },
      schemas: { Problem: problemSchema },
    },
  };
}
