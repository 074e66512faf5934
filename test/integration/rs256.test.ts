// RS256 ("ASAP") mode: tokens signed with a private key and a kid, and the public keys served where
// Prosody's asap_key_server fetches them, `<hex(sha256(kid))>.pem`, over real HTTP.
import { createHash, createVerify, generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../infra/local/server.ts';
import { lambdaSecretEnvironment, startFakeSecretsManager, TEST_SECRET_ARN, type FakeSecretsManager } from '../helpers/fake-secrets-manager.ts';
import { apiEvent, json, lambdaContext, loadHandlers } from '../helpers/handlers.ts';
import { decodeJwt, jitsiRuleViolations } from '../helpers/jwt.ts';
import { post, startServer } from '../helpers/local-server.ts';
import { startOidcIssuer, type OidcIssuer } from '../helpers/oidc-issuer.ts';

const rsaSecret = (kid: string) =>
  JSON.stringify({ kid, privateKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) });
const keyPath = (kid: string) => `/api/jitsi/keys/${createHash('sha256').update(kid).digest('hex')}.pem`;

/** Verifies an RS256 JWT with a PEM public key, with node:crypto only (what Prosody does with it). */
function signatureValid(token: string, pem: string): boolean {
  const [h, p, s] = token.split('.');
  return createVerify('RSA-SHA256').update(`${h}.${p}`).verify(pem, Buffer.from(s!, 'base64url'));
}

describe('RS256 mode over HTTP', () => {
  let server: RunningServer;
  let issuer: OidcIssuer;
  let jwtServer: RunningServer;
  beforeAll(async () => {
    server = await startServer({ JITSI_SIGNING: 'rs256', JITSI_APP_SECRET: rsaSecret('jitsi-2026-11') });
    issuer = await startOidcIssuer();
    const { createAuthenticator } = await import('../../infra/local/auth.ts');
    jwtServer = await startServer(
      { JITSI_SIGNING: 'rs256', JITSI_APP_SECRET: rsaSecret('jwt-mode-key'), AUTH_MODE: 'jwt' },
      createAuthenticator({ authIssuer: issuer.issuer, authAudience: 'test-client' }),
    );
  });
  afterAll(async () => {
    await server.close();
    await jwtServer.close();
    await issuer.close();
  });

  it('signs RS256 with the kid, and the key fetched by sha256(kid) verifies it, as Prosody would', async () => {
    const minted = await post(`${server.url}/api/jitsi/generate-token`, { roomName: 'room-1', userName: 'Asap Person', isModerator: true });
    const { header } = decodeJwt(minted.body.token);
    expect(header).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'jitsi-2026-11' });
    expect(
      jitsiRuleViolations(minted.body.token, { appId: 'test-app', audience: 'test-app', sub: 'meet.example.test', maxLifetime: 86_400 }).filter(
        (rule) => rule !== 'alg',
      ),
    ).toEqual([]);

    const response = await fetch(`${server.url}${keyPath(header.kid as string)}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-pem-file');
    expect(response.headers.get('cache-control')).toBe('public, max-age=3600');
    const pem = await response.text();
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(pem).not.toContain('PRIVATE');
    expect(signatureValid(minted.body.token, pem)).toBe(true);

    expect((await post(`${server.url}/api/jitsi/validate-token`, { token: minted.body.token })).body).toMatchObject({ valid: true, moderator: true });
  });

  it('answers 404 for any other key file, and refuses HS256 tokens in RS256 mode', async () => {
    expect((await fetch(`${server.url}${keyPath('another-kid')}`)).status).toBe(404);
    expect((await fetch(`${server.url}/api/jitsi/keys/..%2f..%2fetc%2fpasswd`)).status).toBe(404);
    const hs = await post(`${server.url}/api/jitsi/validate-token`, { token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJ0ZXN0LWFwcCJ9.c2ln' });
    expect(hs.body).toEqual({ valid: false, reason: 'wrong_alg' });
  });

  it('serves the keys without caller authentication, while the token routes require it', async () => {
    expect((await fetch(`${jwtServer.url}${keyPath('jwt-mode-key')}`)).status).toBe(200);
    expect((await post(`${jwtServer.url}/api/jitsi/generate-token`, { roomName: 'r', userName: 'x' })).status).toBe(401);
  });
});

describe('RS256 rotation in Secrets Manager', () => {
  let fake: FakeSecretsManager;
  beforeAll(async () => {
    fake = await startFakeSecretsManager();
  });
  afterAll(() => fake.close());
  const env = () => lambdaSecretEnvironment(fake.endpoint, { JITSI_SIGNING: 'rs256' });
  const keysEvent = (kid: string) => {
    const event = apiEvent(keyPath(kid), undefined, { method: 'GET' });
    event.pathParameters = { keyFile: keyPath(kid).split('/').pop()! };
    return event;
  };
  type Handlers = Awaited<ReturnType<typeof loadHandlers>>;
  const tokenRequest = () => apiEvent('/api/jitsi/generate-token', { roomName: 'r', userName: 'N' });
  /** An ad-hoc token from these handlers: the kid it was signed with. */
  const mint = async (handlers: Handlers) => decodeJwt(json(await handlers.generateToken(tokenRequest(), lambdaContext())).token).header.kid;

  it('publishes a new key before signing with it, and serves each key while a token signed with it may be valid', async () => {
    // One table for every environment below, as in a deployment.
    const shared = { ...env(), APPOINTMENTS_TABLE: `rs256-rotation-${process.pid}` };
    const now = Math.floor(Date.now() / 1000);
    fake.secrets.set(TEST_SECRET_ARN, rsaSecret('kid-1'));
    fake.currentCreatedAt = now - 30 * 86_400;
    const first = await loadHandlers(shared);
    expect(await mint(first)).toBe('kid-1');
    expect((await first.jitsiKeys(keysEvent('kid-1'), lambdaContext())).statusCode).toBe(200);

    // Rotated: a new environment loads kid-2 and publishes it before its first token.
    fake.secrets.set(TEST_SECRET_ARN, rsaSecret('kid-2'));
    fake.previous.set(TEST_SECRET_ARN, rsaSecret('kid-1'));
    fake.currentCreatedAt = now;
    const second = await loadHandlers(shared);
    expect(await mint(second)).toBe('kid-2');
    // The first environment still signs with its cached kid-1, and does not take the record back.
    expect(await mint(first)).toBe('kid-1');
    for (const [kid, status] of [
      ['kid-2', 200],
      ['kid-1', 200],
      ['kid-0', 404],
    ] as const)
      expect((await second.jitsiKeys(keysEvent(kid), lambdaContext())).statusCode, kid).toBe(status);

    // Two days on, nobody has signed with kid-1 since: its longest-lived token has expired and it
    // is no longer served; kid-2 is, confirmed again by the signer that signs with it then (its
    // start-up does that already).
    const later = await loadHandlers(shared, { clock: { nowSeconds: () => now + 2 * 86_400 } });
    expect(await mint(later)).toBe('kid-2');
    expect((await later.jitsiKeys(keysEvent('kid-2'), lambdaContext())).statusCode).toBe(200);
    expect((await later.jitsiKeys(keysEvent('kid-1'), lambdaContext())).statusCode).toBe(404);
  });

  it('keeps serving a key rolled back to, and refuses to sign with a kid published with another key', async () => {
    const shared = { ...env(), APPOINTMENTS_TABLE: `rs256-rollback-${process.pid}` };
    const now = Math.floor(Date.now() / 1000);
    const first = rsaSecret('kid-a');
    fake.secrets.set(TEST_SECRET_ARN, first);
    fake.previous.delete(TEST_SECRET_ARN);
    fake.currentCreatedAt = now - 10 * 86_400;
    await (await loadHandlers(shared, { clock: { nowSeconds: () => now - 3 * 86_400 } })).deps.keyring.current();
    fake.secrets.set(TEST_SECRET_ARN, rsaSecret('kid-b'));
    await (await loadHandlers(shared, { clock: { nowSeconds: () => now - 2 * 86_400 } })).deps.keyring.current();
    // Rolled back to kid-a (AWSCURRENT moved back): days after kid-b replaced it, kid-a signs again and is served again.
    fake.secrets.set(TEST_SECRET_ARN, first);
    const rolledBack = await loadHandlers(shared);
    expect(await mint(rolledBack)).toBe('kid-a');
    expect((await rolledBack.jitsiKeys(keysEvent('kid-a'), lambdaContext())).statusCode).toBe(200);
    // The same kid with another key: no token (Prosody would keep the first key it fetched).
    fake.secrets.set(TEST_SECRET_ARN, rsaSecret('kid-a'));
    const reused = await loadHandlers(shared);
    expect((await reused.generateToken(tokenRequest(), lambdaContext())).statusCode).toBe(503);
  });

  it('publishes the version the current key replaced when nothing was published yet (a deployment upgraded mid-rotation)', async () => {
    const now = Math.floor(Date.now() / 1000);
    fake.secrets.set(TEST_SECRET_ARN, rsaSecret('kid-new'));
    fake.previous.set(TEST_SECRET_ARN, rsaSecret('kid-old'));
    fake.currentCreatedAt = now - 600;
    const handlers = await loadHandlers({ ...env(), APPOINTMENTS_TABLE: `rs256-upgrade-${process.pid}` });
    await handlers.deps.keyring.current();
    // Tokens signed with kid-old before the upgrade keep their key for the longest token lifetime.
    expect((await handlers.jitsiKeys(keysEvent('kid-old'), lambdaContext())).statusCode).toBe(200);
    expect((await handlers.jitsiKeys(keysEvent('kid-new'), lambdaContext())).statusCode).toBe(200);
  });

  it('refuses a key that is not RSA 2048+ or a secret without a kid (503, never a token)', async () => {
    fake.secrets.set(
      TEST_SECRET_ARN,
      JSON.stringify({ kid: 'small', privateKey: generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) }),
    );
    const handlers = await loadHandlers(env());
    const event = tokenRequest();
    expect((await handlers.generateToken(event, lambdaContext())).statusCode).toBe(503);
    fake.secrets.set(TEST_SECRET_ARN, JSON.stringify({ privateKey: 'x' }));
    expect((await (await loadHandlers(env())).generateToken(event, lambdaContext())).statusCode).toBe(503);
  });
});
