// The local server is as strict as API Gateway: its caller authenticator applies exactly the
// JWT authorizer's rules (one test per rule), it answers only its own host names, checks the
// caller before reading a body, caps bodies while reading, and never answers a malformed
// request target with a 500.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../infra/local/auth.ts';
import { LOCAL_SERVER_LIMITS, type RunningServer } from '../../infra/local/server.ts';
import { ROUTES } from '../../lib/routes.ts';
import { startServer } from '../helpers/local-server.ts';
import { startOidcIssuer, type OidcIssuer } from '../helpers/oidc-issuer.ts';

let issuer: OidcIssuer;
let authenticate: ReturnType<typeof createAuthenticator>;
const therapist = { sub: 'therapist-1', name: 'T', 'cognito:groups': ['moderators'] };

beforeAll(async () => {
  issuer = await startOidcIssuer();
  authenticate = createAuthenticator({ authIssuer: issuer.issuer, authAudience: 'test-client' });
});
afterAll(() => issuer.close());

const accepted = async (authorization: string) =>
  authenticate(authorization).then(
    () => true,
    () => false,
  );
const now = () => Math.floor(Date.now() / 1000);

describe('the local authenticator applies the HTTP API JWT authorizer rules', () => {
  it('takes the token with or without "Bearer "', async () => {
    const token = await issuer.sign(therapist);
    expect(await accepted(`Bearer ${token}`)).toBe(true);
    expect(await accepted(token)).toBe(true);
    expect(await accepted(`Basic ${token}`)).toBe(false);
  });

  it('kid: the header must name the signing key', async () => {
    expect(await accepted(await issuer.sign(therapist, { kid: null }))).toBe(false);
    expect(await accepted(await issuer.sign(therapist, { kid: 'unknown-key' }))).toBe(false);
  });

  it('iss: must be the configured issuer', async () => {
    expect(await accepted(await issuer.sign(therapist, { issuer: 'https://other.example' }))).toBe(false);
  });

  it('aud or client_id: aud decides when present, client_id only when aud is absent', async () => {
    expect(await accepted(await issuer.sign(therapist, { audience: 'test-client' }))).toBe(true);
    expect(await accepted(await issuer.sign({ ...therapist, client_id: 'test-client' }, { audience: null }))).toBe(true);
    // A wrong aud is refused even when client_id matches.
    expect(await accepted(await issuer.sign({ ...therapist, client_id: 'test-client' }, { audience: 'other-client' }))).toBe(false);
    expect(await accepted(await issuer.sign({ ...therapist, client_id: 'other-client' }, { audience: null }))).toBe(false);
    expect(await accepted(await issuer.sign(therapist, { audience: null }))).toBe(false);
  });

  it('exp: after now; nbf and iat: before now, with no tolerance', async () => {
    expect(await accepted(await issuer.sign(therapist, { expiresIn: now() - 1 }))).toBe(false);
    expect(await accepted(await issuer.sign(therapist, { notBefore: now() + 60 }))).toBe(false);
    expect(await accepted(await issuer.sign(therapist, { issuedAt: now() + 60 }))).toBe(false);
    expect(await accepted(await issuer.sign(therapist, { issuedAt: now() - 60, notBefore: now() - 60 }))).toBe(true);
  });

  it('signature: RSA from the JWKS only (another key is refused)', async () => {
    expect(await accepted(await issuer.sign(therapist, { key: 'other' }))).toBe(false);
  });
});

describe('the local server', () => {
  let server: RunningServer;
  const port = () => Number(new URL(server.url).port);
  /** Sends raw bytes and reads until the server closes or a time passes. */
  const raw = (text: string, waitMs = 1_000) =>
    new Promise<string>((resolve) => {
      const socket = connect(port(), '127.0.0.1');
      let received = '';
      socket.on('data', (chunk) => {
        received += chunk.toString();
      });
      socket.on('close', () => resolve(received));
      socket.on('error', () => resolve(received));
      setTimeout(() => {
        socket.destroy();
        resolve(received);
      }, waitMs);
      socket.write(text);
    });

  beforeAll(async () => {
    server = await startServer(
      { AUTH_MODE: 'jwt', AUTH_ISSUER: issuer.issuer, AUTH_AUDIENCE: 'test-client', LOCAL_HOSTNAMES: 'dev.example.test' },
      authenticate,
    );
  });
  afterAll(() => server.close());

  it('refuses a Host that is not a loopback name or a configured one (DNS rebinding)', async () => {
    const answer = await raw(`GET /openapi.json HTTP/1.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(answer).toContain('application/problem+json');
    for (const host of [`localhost:${port()}`, `127.0.0.1:${port()}`, 'dev.example.test']) {
      expect(await raw(`GET /openapi.json HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)).toMatch(/^HTTP\/1\.1 200/);
    }
  });

  it('answers a malformed request target with 400, never a 500', async () => {
    for (const target of ['//[', 'http://localhost:99999/api/jitsi/generate-token', 'http://[::1/x']) {
      const answer = await raw(`GET ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
      expect(answer, target).toMatch(/^HTTP\/1\.1 400/);
    }
  });

  it('checks the caller token before reading the body: a huge body without a token gets 401 at once', async () => {
    const started = Date.now();
    const answer = await raw(
      `POST ${ROUTES.generateToken.path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\nConnection: close\r\n\r\n{"roomName":`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 401/);
    expect(Date.now() - started).toBeLessThan(LOCAL_SERVER_LIMITS.requestTimeoutMs);
  });

  it('cuts off a silent socket and one stalled in its headers at the header deadline, one stalled in its body at the request deadline', async () => {
    // Each wait is the deadline plus 2 s: with Node's default 30 s check interval none of the three is answered in time.
    const limits = LOCAL_SERVER_LIMITS;
    const token = await issuer.sign(therapist);
    const [silent, midHeaders, midBody] = await Promise.all([
      raw('', limits.headersTimeoutMs + 2_000),
      raw(`GET /openapi.json HTTP/1.1\r\nHost: localhost\r\n`, limits.headersTimeoutMs + 2_000),
      raw(
        `POST ${ROUTES.generateToken.path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`,
        limits.requestTimeoutMs + 2_000,
      ),
    ]);
    expect(silent).toMatch(/^HTTP\/1\.1 408/);
    expect(midHeaders).toMatch(/^HTTP\/1\.1 408/);
    expect(midBody).toMatch(/^HTTP\/1\.1 408/);
  }, 20_000);

  it('stops reading a body past the route limit and closes the connection', async () => {
    const token = await issuer.sign(therapist);
    const answer = await raw(
      `POST ${ROUTES.generateToken.path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\n\r\n${'x'.repeat(100)}`,
      3_000,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 413/);
    expect(answer.toLowerCase()).toContain('connection: close');
  });
});
