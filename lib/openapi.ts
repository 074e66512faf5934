// The OpenAPI 3.1 description, made from the route table: each row's request schema (the same
// one the handler validates with), response schema and caller rule. The tests check real
// responses against it.
import { SETTINGS } from './config.ts';
import { PROBLEM_TYPE_PREFIX, PROBLEM_TYPES } from './problem.ts';
import type { RequestLimits } from './requests.ts';
import { routeUsesAppSecret, type RouteDefinition } from './routes.ts';
import { toJsonSchema } from './schema.ts';

const problemSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'requestId', 'error', 'message'],
  additionalProperties: false,
  properties: {
    error: { type: 'string', description: 'The title again (for clients that read `error`).' },
    message: { type: 'string', description: 'What to show a person: the detail, else the title. Prosody shows it when it refuses a room.' },
    type: { type: 'string', enum: Object.keys(PROBLEM_TYPES).map((type) => PROBLEM_TYPE_PREFIX + type) },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    field: { type: 'string', description: 'The request field at fault.' },
    requestId: { type: 'string' },
  },
};

/** API Gateway's own answers (its throttling and its JWT authorizer) are not problem+json. */
const gatewayMessageSchema = {
  type: 'object',
  required: ['message'],
  properties: { message: { type: 'string' } },
  description: 'API Gateway\'s own answer, e.g. {"message":"Unauthorized"} or {"message":"Too Many Requests"}.',
};

const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});
const gatewayOrProblemResponse = (description: string) => ({
  description,
  content: {
    'application/json': { schema: { $ref: '#/components/schemas/GatewayMessage' } },
    'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
  },
});

/** The failures a route can answer, from what its row says it takes and touches. */
function errorResponses(route: RouteDefinition): Record<string, unknown> {
  const takesInput = route.request !== undefined || route.params !== undefined || route.query !== undefined;
  const errors: Record<string, unknown> = {};
  if (takesInput) errors[400] = problemResponse('Invalid input (the field is named)');
  if (route.caller === 'required') {
    errors[401] = gatewayOrProblemResponse('No valid caller token (with caller authentication): API Gateway\'s authorizer answers {"message":"Unauthorized"}');
    errors[403] = problemResponse('The caller may not do this (for appointments: not its therapist or client, whether or not it exists)');
  }
  if (route.caller === 'prosody') {
    errors[401] = problemResponse('No or a wrong reservation API key');
    errors[403] = problemResponse('The room may not open now: `message` says why, in words Prosody shows the person');
    if (route.params !== undefined) errors[404] = problemResponse('No such conference');
  }
  if (route.caller === 'public' && route.store.includes('dynamodb:UpdateItem'))
    errors[404] = problemResponse('The join link cannot be used (used, expired, cancelled or unknown: the same answer)');
  if (route.pathParameters !== undefined) errors[404] = problemResponse('No such key (or HS256 mode)');
  if (route.store.includes('dynamodb:PutItem')) {
    errors[409] = problemResponse(
      "The appointment's state refuses it (cancelled, ended, moved, registered differently: each its own problem type), or it changed too often meanwhile (appointment-conflict: retry)",
    );
  }
  if (route.request !== undefined) {
    errors[413] = problemResponse('Body or token too large');
    errors[415] = problemResponse(route.bodyFormat === 'form' ? 'Not form-encoded' : 'Not JSON');
  }
  errors[429] = gatewayOrProblemResponse('Throttled (by API Gateway)');
  for (const [status, description] of Object.entries(route.problems ?? {})) errors[Number(status)] = problemResponse(description);
  const dependencies = [
    ...(routeUsesAppSecret(route) ? ['the signing secret'] : []),
    ...(route.caller === 'prosody' ? ["Prosody's key"] : []),
    ...(route.store.length > 0 ? ['the appointment store'] : []),
  ];
  if (dependencies.length > 0) errors[503] = problemResponse(`${capitalized(dependencies.join(' or '))} is unavailable (Retry-After)`);
  return errors;
}

const capitalized = (text: string): string => `${text[0]!.toUpperCase()}${text.slice(1)}`;

/** OpenAPI path syntax is API Gateway's: `{name}`. */
function operation(route: RouteDefinition, limits: RequestLimits): Record<string, unknown> {
  const responses: Record<string, unknown> = {
    [route.response.status ?? 200]: { description: route.response.description, content: { [route.response.contentType]: { schema: route.response.schema } } },
    ...errorResponses(route),
  };
  for (const [status, other] of Object.entries(route.otherResponses ?? {}))
    responses[status] = { description: other.description, content: { 'application/json': { schema: other.schema } } };
  const parameters = [
    ...Object.entries(route.pathParameters ?? {}).map(([name, schema]) => ({ name, in: 'path', required: true, schema })),
    ...Object.entries(route.params?.() ?? {}).map(([name, spec]) => ({ name, in: 'path', required: true, schema: spec.jsonSchema })),
    ...Object.entries(route.query?.() ?? {}).map(([name, spec]) => ({ name, in: 'query', required: spec.required, schema: spec.jsonSchema })),
  ];
  const request = route.request?.(limits);
  return {
    operationId: route.name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase()),
    summary: route.summary,
    ...(route.caller === 'public' ? { security: [] } : route.caller === 'prosody' ? { security: [{ reservationKey: [] }] } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(request ? { requestBody: { required: true, content: { 'application/json': { schema: toJsonSchema(request) } } } } : {}),
    responses,
  };
}

/** The deployed API (local-only routes are left out). */
export function buildOpenApi(
  routes: readonly RouteDefinition[],
  limits: RequestLimits = { tokenTtlMaxSeconds: 86_400, avatarHosts: [] },
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    if (route.runsIn === 'local-server') continue;
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = operation(route, limits);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'jitsi-token-api',
      version: '0.1.0',
      description: `Mints, checks and renews Jitsi Meet JWTs for a self-hosted Jitsi server. Limits shown are the defaults (${SETTINGS.tokenTtlMaxSeconds.variable} = 86400).`,
    },
    servers: [{ url: 'http://localhost:3001', description: 'npm start' }],
    security: [{ callerJwt: [] }],
    paths,
    components: {
      securitySchemes: {
        callerJwt: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: `The caller's OIDC token (${SETTINGS.authMode.variable}=jwt); not needed with ${SETTINGS.authMode.variable}=none.`,
        },
        reservationKey: {
          type: 'http',
          scheme: 'bearer',
          description: "The static key Prosody's reservations_api_headers sends (Secrets Manager; locally a generated file).",
        },
      },
      schemas: { Problem: problemSchema, GatewayMessage: gatewayMessageSchema },
    },
  };
}
