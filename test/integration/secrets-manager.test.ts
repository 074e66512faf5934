// The Secrets Manager path with the real AWS SDK v3 client against a loopback endpoint that
// speaks GetSecretValue, through the real handlers.
import { createHmac } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lambdaSecretEnvironment, startFakeSecretsManager, TEST_SECRET_ARN, type Fault, type FakeSecretsManager } from '../helpers/fake-secrets-manager.ts';
import { apiEvent, json, lambdaContext, loadHandlers } from '../helpers/handlers.ts';
import { b64url, decodeJwt } from '../helpers/jwt.ts';

const SECRET = 'secrets-manager-test-secret-0123456789-abcdef';
let fake: FakeSecretsManager;

beforeAll(async () => {
  fake = await startFakeSecretsManager();
});
const faultOutcomes: Array<{ fault: string; status: number; ms: number }> = [];
afterAll(async () => {
  await fake.close();
  mkdirSync('test-artifacts/figures', { recursive: true });
  writeFileSync('test-artifacts/figures/secrets-manager-faults.json', JSON.stringify(faultOutcomes, null, 2));
});
beforeEach(() => {
  fake.calls.length = 0;
  fake.fault = 'none';
  fake.secrets.set(TEST_SECRET_ARN, SECRET);
  fake.previous.clear();
  fake.currentCreatedAt = Math.floor(Date.now() / 1000);
});

const lambdaEnv = () => lambdaSecretEnvironment(fake.endpoint, { AWS_LAMBDA_FUNCTION_NAME: 'generate-token', SECRET_STALE_SECONDS: '3600' });
const generateEvent = () => apiEvent('/api/jitsi/generate-token', { roomName: 'room-1', userName: 'Ada' });

describe('the app secret from Secrets Manager (real SDK, loopback endpoint)', () => {
  it('makes one GetSecretValue call per cold start across many invocations and signs with it', async () => {
    const { generateToken } = await loadHandlers(lambdaEnv());
    const results = [];
    for (let i = 0; i < 100; i++) results.push(await generateToken(generateEvent(), lambdaContext()));
    expect(results.every((result) => result.statusCode === 200)).toBe(true);
    expect(fake.calls).toEqual([{ target: 'secretsmanager.GetSecretValue', secretId: TEST_SECRET_ARN, versionStage: 'AWSCURRENT' }]);
    expect(decodeJwt(json(results[0]!).token).header.alg).toBe('HS256');
  });

  it('reads a JSON secret with appSecret', async () => {
    fake.secrets.set(TEST_SECRET_ARN, JSON.stringify({ appSecret: SECRET }));
    const { generateToken } = await loadHandlers(lambdaEnv());
    expect((await generateToken(generateEvent(), lambdaContext())).statusCode).toBe(200);
  });

  it.each<[Fault | 'too-short' | 'json-without-appSecret']>([
    ['not-found'],
    ['denied'],
    ['throttled'],
    ['server-error'],
    ['hang'],
    ['bad-json'],
    ['binary'],
    ['too-short'],
    ['json-without-appSecret'],
  ])('answers 503 with Retry-After within 2 s when the secret is %s, never a 500', async (fault) => {
    if (fault === 'too-short') fake.secrets.set(TEST_SECRET_ARN, 'too-short');
    else if (fault === 'json-without-appSecret') fake.secrets.set(TEST_SECRET_ARN, '{"secret":"x"}');
    else fake.fault = fault;
    const { generateToken } = await loadHandlers(lambdaEnv());
    const started = performance.now();
    const result = await generateToken(generateEvent(), lambdaContext());
    const elapsed = performance.now() - started;
    faultOutcomes.push({ fault, status: result.statusCode!, ms: Math.round(elapsed) });
    expect(elapsed).toBeLessThan(2_000);
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['retry-after']).toBe('5');
    expect(result.headers?.['content-type']).toBe('application/problem+json');
    expect(json(result)).toMatchObject({ type: 'urn:jitsi-token-api:problem:secret-unavailable', status: 503 });
    expect(result.body).not.toContain('fake failure');
  });

  it('recovers on a later request once Secrets Manager answers again', async () => {
    fake.fault = 'server-error';
    const { generateToken } = await loadHandlers(lambdaEnv());
    expect((await generateToken(generateEvent(), lambdaContext())).statusCode).toBe(503);
    fake.fault = 'none';
    // The failed fetch is remembered for a short backoff only when a cached secret exists; with
    // none, the next request asks again.
    expect((await generateToken(generateEvent(), lambdaContext())).statusCode).toBe(200);
  });
});

describe('refresh, stale window and rotation in Secrets Manager (real SDK, real clock)', () => {
  const shortCache = () => ({ ...lambdaEnv(), SECRET_REFRESH_SECONDS: '1', SECRET_STALE_SECONDS: '1' });
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('keeps serving the cached secret while refreshes fail inside the stale window, then fails closed with 503', async () => {
    const { generateToken } = await loadHandlers(shortCache());
    expect((await generateToken(generateEvent(), lambdaContext())).statusCode).toBe(200);
    fake.fault = 'server-error';
    await sleep(1_100);
    const stale = await generateToken(generateEvent(), lambdaContext());
    expect(stale.statusCode).toBe(200);
    expect(fake.calls.length).toBeGreaterThanOrEqual(2);
    await sleep(1_000);
    const closed = await generateToken(generateEvent(), lambdaContext());
    expect(closed.statusCode).toBe(503);
    expect(closed.headers?.['retry-after']).toBe('5');
  });

  it('picks up a secret changed in Secrets Manager within the refresh period', async () => {
    const { generateToken } = await loadHandlers(shortCache());
    const before = json(await generateToken(generateEvent(), lambdaContext())).token as string;
    const rotated = 'rotated-secret-rotated-secret-rotated-secret-01';
    fake.secrets.set(TEST_SECRET_ARN, rotated);
    await sleep(1_100);
    const after = json(await generateToken(generateEvent(), lambdaContext())).token as string;
    const signedWith = (token: string, secret: string) => {
      const [h, p, s] = token.split('.');
      return createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url') === s;
    };
    expect(signedWith(before, SECRET)).toBe(true);
    expect(signedWith(after, rotated)).toBe(true);
  });
});

describe('the rotation overlap, from the CreatedDate of AWSCURRENT (real SDK, fake clock)', () => {
  const OLD = 'old-secret-old-secret-old-secret-old-secret-0';
  const NEW = 'new-secret-new-secret-new-secret-new-secret-1';
  const validateEvent = (token: string) => apiEvent('/api/jitsi/validate-token', { token });
  /** What someone holding the old secret could write, with any times. */
  const forgedWithOld = (iat: number) => {
    const input = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ iss: 'test-app', aud: 'test-app', sub: 'meet.example.test', room: 'room-1', iat, nbf: iat - 30, exp: iat + 600 })}`;
    return `${input}.${createHmac('sha256', OLD).update(input).digest('base64url')}`;
  };

  it('calls a token forged with the previous secret after the rotation valid, signed with previous, inside the overlap only', async () => {
    const rotatedAt = Math.floor(Date.now() / 1000);
    fake.secrets.set(TEST_SECRET_ARN, NEW);
    fake.previous.set(TEST_SECRET_ARN, OLD);
    fake.currentCreatedAt = rotatedAt;
    const clock = { now: rotatedAt + 60, nowSeconds: () => clock.now };
    const handlers = await loadHandlers({ ...lambdaEnv(), SECRET_ROTATION_OVERLAP_SECONDS: '120' }, { clock });

    const minted = json(await handlers.generateToken(generateEvent(), lambdaContext())).token as string;
    expect(json(await handlers.validateToken(validateEvent(minted), lambdaContext()))).toMatchObject({ valid: true, signedWith: 'current' });
    const forged = forgedWithOld(clock.now);
    expect(json(await handlers.validateToken(validateEvent(forged), lambdaContext()))).toEqual({
      valid: true,
      expiresAt: new Date((clock.now + 600) * 1000).toISOString(),
      signedWith: 'previous',
      room: 'room-1',
      moderator: false,
      userId: null,
    });
    expect(fake.calls.map((call) => call.versionStage)).toEqual(['AWSCURRENT', 'AWSPREVIOUS']);

    // The overlap has passed: the same token, and one claiming it was issued before the rotation, are refused.
    clock.now = rotatedAt + 120;
    for (const token of [forged, forgedWithOld(rotatedAt - 10), forgedWithOld(clock.now)]) {
      expect(json(await handlers.validateToken(validateEvent(token), lambdaContext()))).toEqual({ valid: false, reason: 'bad_signature' });
    }
    expect(json(await handlers.validateToken(validateEvent(minted), lambdaContext()))).toMatchObject({ valid: true, signedWith: 'current' });
  });
});
