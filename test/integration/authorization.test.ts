// Who may get which token, with AUTH_MODE=jwt: an authorization matrix (caller role × endpoint ×
// body fields) run through the handlers with API Gateway-shaped claims, and through the local
// server with real caller tokens from a loopback OIDC issuer.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../infra/local/server.ts';
import { apiEvent, json, lambdaContext, loadHandlers } from '../helpers/handlers.ts';
import { b64url, decodeJwt } from '../helpers/jwt.ts';
import { post, startServer } from '../helpers/local-server.ts';
import { startOidcIssuer, type OidcIssuer } from '../helpers/oidc-issuer.ts';
import { SEED_GENERATE_TOKEN_REQUEST } from '../helpers/seed.ts';

const AUTH_ENV = { AUTH_MODE: 'jwt', MODERATOR_CLAIM: 'cognito:groups', MODERATOR_VALUES: 'therapists' };

interface Identity {
  sub: string;
  name: string;
  email: string;
  groups: string[];
  isModerator: boolean;
}
const therapist: Identity = {
  sub: 'therapist-1',
  name: 'Dr. Therapist Example',
  email: 'therapist@example.com',
  groups: ['therapists', 'admins'],
  isModerator: true,
};
const client: Identity = { sub: 'client-1', name: 'Client Example', email: 'client@example.com', groups: ['clients'], isModerator: false };
const callers = { therapist, client };

/** Claims as API Gateway's HTTP API hands them to the function: strings, arrays bracketed. */
const gatewayClaims = (who: Identity) => ({
  sub: who.sub,
  name: who.name,
  email: who.email,
  email_verified: 'true',
  'cognito:groups': `[${who.groups.join(' ')}]`,
  iss: 'https://issuer.example',
  exp: '9999999999',
});

type Choice = 'omit' | 'own' | 'other';
interface Case {
  caller: keyof typeof callers;
  endpoint: 'generate-token' | 'create-room' | 'validate-token';
  body: Record<string, unknown>;
  /** 200, or 403 with the field at fault. */
  expected: { status: 200 } | { status: 403; field?: string };
}

function generateCases(): Case[] {
  const cases: Case[] = [];
  for (const caller of ['therapist', 'client'] as const) {
    const who = callers[caller];
    for (const userId of ['omit', 'own', 'other'] as Choice[]) {
      for (const userEmail of ['omit', 'own', 'other'] as Choice[]) {
        for (const isModerator of [undefined, false, true]) {
          const body: Record<string, unknown> = { roomName: 'room-1' };
          if (userId !== 'omit') body.userId = userId === 'own' ? who.sub : 'someone-else';
          if (userEmail !== 'omit') body.userEmail = userEmail === 'own' ? who.email.toUpperCase() : 'someone@example.com';
          if (isModerator !== undefined) body.isModerator = isModerator;
          const expected: Case['expected'] =
            isModerator === true && !who.isModerator
              ? { status: 403, field: 'isModerator' }
              : userId === 'other'
                ? { status: 403, field: 'userId' }
                : userEmail === 'other'
                  ? { status: 403, field: 'userEmail' }
                  : { status: 200 };
          cases.push({ caller, endpoint: 'generate-token', body, expected });
        }
      }
    }
    for (const [userName, status] of [
      [who.name, 200],
      ['Someone Else', 403],
    ] as const) {
      cases.push({
        caller,
        endpoint: 'generate-token',
        body: { roomName: 'room-1', userName },
        expected: status === 200 ? { status } : { status, field: 'userName' },
      });
    }
    for (const therapistId of ['omit', 'own', 'other'] as Choice[]) {
      const body: Record<string, unknown> = {
        appointmentId: 'appt-1',
        clientId: 'client-9',
        scheduledStartTime: new Date(Date.now() + 3_600_000).toISOString(),
      };
      if (therapistId !== 'omit') body.therapistId = therapistId === 'own' ? who.sub : 'another-therapist';
      const expected: Case['expected'] = !who.isModerator ? { status: 403 } : therapistId === 'other' ? { status: 403, field: 'therapistId' } : { status: 200 };
      cases.push({ caller, endpoint: 'create-room', body, expected });
    }
    cases.push({ caller, endpoint: 'validate-token', body: { token: 'a.b.c' }, expected: { status: 200 } });
  }
  return cases;
}

const cases = generateCases();

interface Tally {
  moderatorTokensWithoutRole: number;
  tokensForAnotherIdentity: number;
  roomsCreatedByNonModerators: number;
}

/** Checks one answer against the case and counts what must never happen. */
function checkAnswer(testCase: Case, status: number, body: any, tally: Tally): void {
  const who = callers[testCase.caller];
  expect(status, JSON.stringify(testCase)).toBe(testCase.expected.status);
  if (status === 403) {
    expect(body.type).toBe('urn:jitsi-token-api:problem:forbidden');
    if ('field' in testCase.expected && testCase.expected.field) expect(body.field).toBe(testCase.expected.field);
  }
  if (status !== 200) return;
  if (testCase.endpoint === 'create-room') {
    if (!who.isModerator) tally.roomsCreatedByNonModerators++;
    const therapistClaims = decodeJwt(body.therapistToken).payload;
    if (therapistClaims.context.user.id !== who.sub) tally.tokensForAnotherIdentity++;
    return;
  }
  if (testCase.endpoint === 'generate-token') {
    const claims = decodeJwt(body.token).payload;
    if (claims.moderator && !who.isModerator) tally.moderatorTokensWithoutRole++;
    // An email is never someone else's; by default (TOKEN_EMAIL=none) there is none at all.
    if (claims.context.user.id !== who.sub || (claims.context.user.email ?? who.email) !== who.email || claims.context.user.name !== who.name)
      tally.tokensForAnotherIdentity++;
    expect(claims.context.user.email).toBeUndefined();
    expect(claims.moderator).toBe(testCase.body.isModerator === true);
  }
}

describe('authorization matrix through the handlers (API Gateway claims)', () => {
  it(`covers at least 30 combinations (${cases.length}) with 0 moderator tokens without the role, 0 tokens for someone else, 0 rooms by non-moderators`, async () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    const handlers = await loadHandlers(AUTH_ENV);
    const byEndpoint = { 'generate-token': handlers.generateToken, 'create-room': handlers.createRoom, 'validate-token': handlers.validateToken };
    const tally: Tally = { moderatorTokensWithoutRole: 0, tokensForAnotherIdentity: 0, roomsCreatedByNonModerators: 0 };
    for (const testCase of cases) {
      const result = await byEndpoint[testCase.endpoint](
        apiEvent(`/api/jitsi/${testCase.endpoint}`, testCase.body, { claims: gatewayClaims(callers[testCase.caller]) }),
        lambdaContext(),
      );
      checkAnswer(testCase, result.statusCode!, json(result), tally);
    }
    expect(tally).toEqual({ moderatorTokensWithoutRole: 0, tokensForAnotherIdentity: 0, roomsCreatedByNonModerators: 0 });
  });

  it('answers 401, never a token, when jwt mode sees no claims (an authorizer missing from a route)', async () => {
    const handlers = await loadHandlers(AUTH_ENV);
    for (const [handler, body] of [
      [handlers.generateToken, { roomName: 'room-1', userName: 'X' }],
      [handlers.createRoom, { appointmentId: 'a', therapistId: 't', clientId: 'c', scheduledStartTime: new Date(Date.now() + 3_600_000).toISOString() }],
      [handlers.validateToken, { token: 'a.b.c' }],
    ] as const) {
      const result = await handler(apiEvent('/api/jitsi/x', body), lambdaContext());
      expect(result.statusCode).toBe(401);
      expect(result.headers?.['www-authenticate']).toBe('Bearer');
    }
  });

  it('reads the role from an array, a bracketed string or a single value, never from a comma list', async () => {
    const handlers = await loadHandlers(AUTH_ENV);
    for (const groups of [['therapists'], '[admins therapists]', 'therapists']) {
      const claims = { sub: 'therapist-1', name: 'T', 'cognito:groups': groups };
      const result = await handlers.generateToken(apiEvent('/api/jitsi/generate-token', { roomName: 'r', isModerator: true }, { claims }), lambdaContext());
      expect(result.statusCode).toBe(200);
    }
    for (const groups of ['[therapist]', 'therapists-not', '', '[]', 'admins,therapists', 'admins therapists']) {
      const claims = { sub: 'c', name: 'C', 'cognito:groups': groups };
      const result = await handlers.generateToken(apiEvent('/api/jitsi/generate-token', { roomName: 'r', isModerator: true }, { claims }), lambdaContext());
      expect(result.statusCode).toBe(403);
    }
  });

  it('takes the display name from name, then given + family name, then the username, else a neutral label; never from the body', async () => {
    const handlers = await loadHandlers(AUTH_ENV);
    const nameOf = async (claims: Record<string, unknown>, body: Record<string, unknown> = {}) => {
      const result = await handlers.generateToken(
        apiEvent('/api/jitsi/generate-token', { roomName: 'r', ...body }, { claims: { sub: 's', ...claims } }),
        lambdaContext(),
      );
      return result.statusCode === 200 ? decodeJwt(json(result).token).payload.context.user.name : result.statusCode;
    };
    expect(await nameOf({ name: 'Full Name', given_name: 'G' })).toBe('Full Name');
    expect(await nameOf({ given_name: 'Given', family_name: 'Family' })).toBe('Given Family');
    expect(await nameOf({ 'cognito:username': 'user.name' })).toBe('user.name');
    expect(await nameOf({ preferred_username: 'pref' })).toBe('pref');
    expect(await nameOf({}, { userName: 'From Body' })).toBe(403);
    expect(await nameOf({})).toBe('Participant');
    expect(await nameOf({ name: 'Full Name' }, { userName: 'Full Name' })).toBe('Full Name');
    expect(await nameOf({ name: 'Full Name' }, { userName: 'Someone Else' })).toBe(403);
  });

  it('still serves the seed requests unchanged in AUTH_MODE=none', async () => {
    const handlers = await loadHandlers({ AUTH_MODE: 'none' });
    const seed = { ...SEED_GENERATE_TOKEN_REQUEST };
    const result = await handlers.generateToken(apiEvent('/api/jitsi/generate-token', seed), lambdaContext());
    expect(result.statusCode).toBe(200);
    const claims = decodeJwt(json(result).token).payload;
    expect(claims).toMatchObject({ moderator: true, context: { user: { id: 'therapist-123', name: 'Dr. Sarah Johnson' } } });
    // Least personal data: the email is accepted but not put in the token unless a setting says so.
    expect(claims.context.user.email).toBeUndefined();
    const sharing = await loadHandlers({ AUTH_MODE: 'none', TOKEN_EMAIL: 'moderator' });
    const shared = decodeJwt(json(await sharing.generateToken(apiEvent('/api/jitsi/generate-token', seed), lambdaContext())).token).payload;
    expect(shared.context.user.email).toBe('sarah.johnson@example.com');
    const asParticipant = await sharing.generateToken(apiEvent('/api/jitsi/generate-token', { ...seed, isModerator: false }), lambdaContext());
    expect(decodeJwt(json(asParticipant).token).payload.context.user.email).toBeUndefined();
  });
});

describe('through the local server with a loopback OIDC issuer', () => {
  let issuer: OidcIssuer;
  let server: RunningServer;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    issuer = await startOidcIssuer();
    const env = { ...AUTH_ENV, AUTH_ISSUER: issuer.issuer, AUTH_AUDIENCE: 'test-client' };
    const { createAuthenticator } = await import('../../infra/local/auth.ts');
    server = await startServer(env, createAuthenticator({ authIssuer: issuer.issuer, authAudience: 'test-client' }));
    for (const [key, who] of Object.entries(callers)) {
      tokens[key] = await issuer.sign({ sub: who.sub, name: who.name, email: who.email, email_verified: true, 'cognito:groups': who.groups });
    }
  });
  afterAll(async () => {
    await server.close();
    await issuer.close();
  });

  it(`runs the same ${cases.length} combinations end to end with real caller tokens`, async () => {
    const tally: Tally = { moderatorTokensWithoutRole: 0, tokensForAnotherIdentity: 0, roomsCreatedByNonModerators: 0 };
    for (const testCase of cases) {
      const response = await post(`${server.url}/api/jitsi/${testCase.endpoint}`, testCase.body, { authorization: `Bearer ${tokens[testCase.caller]}` });
      checkAnswer(testCase, response.status, response.body, tally);
    }
    expect(tally).toEqual({ moderatorTokensWithoutRole: 0, tokensForAnotherIdentity: 0, roomsCreatedByNonModerators: 0 });
    expect(issuer.requests).toContain('/.well-known/openid-configuration');
  });

  it('accepts a Cognito-style access token (no aud) whose client_id is the audience', async () => {
    // Cognito access tokens carry client_id and no aud; with an aud, API Gateway looks at aud only.
    const token = await issuer.sign({ sub: 'client-1', client_id: 'test-client', 'cognito:username': 'client.one' }, { audience: null });
    const response = await post(`${server.url}/api/jitsi/generate-token`, { roomName: 'room-1' }, { authorization: `Bearer ${token}` });
    expect(response.status).toBe(200);
  });

  it.each([
    ['no Authorization header', async () => undefined],
    ['a Basic credential', async () => 'Basic dXNlcjpwYXNz'],
    ['garbage', async () => 'Bearer not-a-token'],
    ['an expired token', async () => `Bearer ${await issuer.sign({ sub: 'client-1' }, { expiresIn: Math.floor(Date.now() / 1000) - 10 })}`],
    ['a token not yet valid', async () => `Bearer ${await issuer.sign({ sub: 'client-1' }, { notBefore: Math.floor(Date.now() / 1000) + 300 })}`],
    ['another audience', async () => `Bearer ${await issuer.sign({ sub: 'client-1' }, { audience: 'other-client' })}`],
    ['another issuer', async () => `Bearer ${await issuer.sign({ sub: 'client-1' }, { issuer: 'https://evil.example' })}`],
    ['another key', async () => `Bearer ${await issuer.sign({ sub: 'client-1' }, { key: 'other' })}`],
    [
      'alg none',
      async () =>
        `Bearer ${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'therapist-1', iss: issuer.issuer, aud: 'test-client', exp: Math.floor(Date.now() / 1000) + 600, 'cognito:groups': ['therapists'] })}.`,
    ],
    [
      'HS256 signed with the JWKS public key',
      async () => {
        const input = `${b64url({ alg: 'HS256', typ: 'JWT', kid: 'test-key-1' })}.${b64url({ sub: 'therapist-1', iss: issuer.issuer, aud: 'test-client', exp: Math.floor(Date.now() / 1000) + 600, 'cognito:groups': ['therapists'] })}`;
        return `Bearer ${input}.${createHmac('sha256', issuer.publicKeyPem).update(input).digest('base64url')}`;
      },
    ],
  ])('refuses %s with 401 problem+json', async (_, authorization) => {
    const header = await authorization();
    const response = await post(
      `${server.url}/api/jitsi/generate-token`,
      { roomName: 'room-1', userName: 'X', isModerator: true },
      header ? { authorization: header } : {},
    );
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
  });
});
