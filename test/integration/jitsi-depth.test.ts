// Jitsi depth: tenants, features per role, HS256 rotation across a Secrets Manager version
// change, refresh-token, and the token doctor's reason codes.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaSecretEnvironment, startFakeSecretsManager, TEST_SECRET_ARN, type FakeSecretsManager } from '../helpers/fake-secrets-manager.ts';
import { apiEvent, json, lambdaContext, loadHandlers, TEST_APP_SECRET } from '../helpers/handlers.ts';
import { b64url, decodeJwt, jitsiRuleViolations } from '../helpers/jwt.ts';

const now = () => Math.floor(Date.now() / 1000);
const generate = (body: Record<string, unknown>, claims?: Record<string, unknown>) =>
  apiEvent('/api/jitsi/generate-token', { roomName: 'room-1', userName: 'Depth Person', ...body }, claims ? { claims } : {});
const validate = (body: Record<string, unknown>) => apiEvent('/api/jitsi/validate-token', body);
const refresh = (token: string, claims?: Record<string, unknown>) => apiEvent('/api/jitsi/refresh-token', { token }, claims ? { claims } : {});
const hs = (header: object, payload: object, secret = TEST_APP_SECRET) => {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
};

describe('tenants', () => {
  it('puts the tenant in sub and in the join URL, and checks it in validate-token', async () => {
    const handlers = await loadHandlers();
    const body = json(await handlers.generateToken(generate({ tenant: 'acme' }), lambdaContext()));
    expect(body.joinUrl).toBe('https://meet.example.test/acme/room-1');
    expect(decodeJwt(body.token).payload.sub).toBe('acme');
    expect(json(await handlers.validateToken(validate({ token: body.token, tenant: 'acme' }), lambdaContext()))).toMatchObject({ valid: true });
    expect(json(await handlers.validateToken(validate({ token: body.token, tenant: 'other' }), lambdaContext()))).toEqual({
      valid: false,
      reason: 'sub_mismatch',
    });
    expect(json(await handlers.validateToken(validate({ token: body.token }), lambdaContext()))).toEqual({ valid: false, reason: 'sub_mismatch' });
    const badTenant = await handlers.generateToken(generate({ tenant: 'Acme/x' }), lambdaContext());
    expect(badTenant.statusCode).toBe(400);
    expect(json(badTenant).field).toBe('tenant');
  });

  it('uses JITSI_TENANT when a request names none, for create-room too', async () => {
    const handlers = await loadHandlers({ JITSI_TENANT: 'clinic' });
    const room = json(
      await handlers.createRoom(
        apiEvent('/api/jitsi/create-room', {
          appointmentId: 'a-1',
          therapistId: 't',
          clientId: 'c',
          scheduledStartTime: new Date(Date.now() + 600_000).toISOString(),
        }),
        lambdaContext(),
      ),
    );
    expect(room.joinUrl).toMatch(/^https:\/\/meet\.example\.test\/clinic\/appt-[a-z2-7]{26}$/);
    expect(decodeJwt(room.clientToken).payload.sub).toBe('clinic');
    expect(json(await handlers.validateToken(validate({ token: room.clientToken }), lambdaContext()))).toMatchObject({ valid: true });
  });
});

describe('features per role', () => {
  it('writes every known feature explicitly, from the settings of each role', async () => {
    const handlers = await loadHandlers({ JITSI_FEATURES_MODERATOR: 'recording, screen-sharing', JITSI_FEATURES_PARTICIPANT: 'none' });
    const moderator = decodeJwt(json(await handlers.generateToken(generate({ isModerator: true }), lambdaContext())).token).payload.context.features;
    const participant = decodeJwt(json(await handlers.generateToken(generate({}), lambdaContext())).token).payload.context.features;
    const keys = ['recording', 'livestreaming', 'transcription', 'outbound-call', 'file-upload', 'send-groupchat', 'create-polls', 'screen-sharing'];
    expect(Object.keys(moderator).sort()).toEqual([...keys].sort());
    expect(moderator).toMatchObject({ recording: true, 'screen-sharing': true, livestreaming: false, 'send-groupchat': false });
    expect(Object.values(participant).every((value) => value === false)).toBe(true);
  });

  it('keeps recording, livestreaming and transcription off by default', async () => {
    const handlers = await loadHandlers();
    const features = decodeJwt(json(await handlers.generateToken(generate({ isModerator: true }), lambdaContext())).token).payload.context.features;
    expect(features).toMatchObject({ recording: false, livestreaming: false, transcription: false, 'screen-sharing': true });
  });

  it('refuses feature keys Jitsi does not know, naming the variable', async () => {
    await expect(loadHandlers({ JITSI_FEATURES_MODERATOR: 'recording,teleport' })).rejects.toThrow(
      /JITSI_FEATURES_MODERATOR must be "none" or a comma-separated list of: recording/,
    );
  });
});

describe('HS256 rotation across a Secrets Manager version change', () => {
  let fake: FakeSecretsManager;
  const OLD = 'old-secret-old-secret-old-secret-old-secret-0';
  const NEW = 'new-secret-new-secret-new-secret-new-secret-1';
  beforeAll(async () => {
    fake = await startFakeSecretsManager();
  });
  afterAll(() => fake.close());
  const lambdaEnv = () => lambdaSecretEnvironment(fake.endpoint);

  it('accepts tokens signed with AWSPREVIOUS for the rotation overlap after the rotation, says so, and signs new ones with AWSCURRENT', async () => {
    fake.secrets.set(TEST_SECRET_ARN, OLD);
    fake.previous.clear();
    const before = await loadHandlers(lambdaEnv());
    const oldToken = json(await before.generateToken(generate({}), lambdaContext())).token;

    // Rotation: AWSCURRENT is the new value, created now; AWSPREVIOUS the old one.
    fake.secrets.set(TEST_SECRET_ARN, NEW);
    fake.previous.set(TEST_SECRET_ARN, OLD);
    fake.currentCreatedAt = now();
    const after = await loadHandlers(lambdaEnv());
    const newToken = json(await after.generateToken(generate({}), lambdaContext())).token;
    const [h, p, s] = newToken.split('.');
    expect(createHmac('sha256', NEW).update(`${h}.${p}`).digest('base64url')).toBe(s);
    fake.calls.length = 0;
    expect(json(await after.validateToken(validate({ token: oldToken }), lambdaContext()))).toMatchObject({ valid: true, signedWith: 'previous' });
    expect(fake.calls.map((call) => call.versionStage)).toEqual(['AWSPREVIOUS']);
    expect(json(await after.validateToken(validate({ token: newToken }), lambdaContext()))).toMatchObject({ valid: true, signedWith: 'current' });
    expect(
      json(
        await after.validateToken(
          validate({ token: hs({ alg: 'HS256', typ: 'JWT' }, decodeJwt(oldToken).payload, 'a-third-secret-never-stored-anywhere-0123') }),
          lambdaContext(),
        ),
      ),
    ).toEqual({ valid: false, reason: 'bad_signature' });

    // Once the overlap (SECRET_ROTATION_OVERLAP_SECONDS, 300 s by default) has passed, the previous
    // secret no longer counts, though the old token itself has not expired.
    fake.currentCreatedAt = now() - 301;
    const later = await loadHandlers(lambdaEnv());
    expect(json(await later.validateToken(validate({ token: oldToken }), lambdaContext()))).toEqual({ valid: false, reason: 'bad_signature' });
  });

  it('does not ask Secrets Manager again for a missing AWSPREVIOUS on every bad token', async () => {
    fake.secrets.set(TEST_SECRET_ARN, NEW);
    fake.previous.clear();
    fake.currentCreatedAt = now();
    const handlers = await loadHandlers(lambdaEnv());
    await handlers.generateToken(generate({}), lambdaContext());
    fake.calls.length = 0;
    const forged = hs(
      { alg: 'HS256', typ: 'JWT' },
      { iss: 'test-app', aud: 'test-app', sub: 'meet.example.test', room: 'r', exp: now() + 60 },
      'attacker-secret-attacker-secret-attacker',
    );
    for (let i = 0; i < 20; i++) expect(json(await handlers.validateToken(validate({ token: forged }), lambdaContext())).valid).toBe(false);
    expect(fake.calls.length).toBe(1);
  });
});

describe('refresh-token', () => {
  it('renews a valid token for the same room, role and identity', async () => {
    const handlers = await loadHandlers();
    const original = json(await handlers.generateToken(generate({ isModerator: true, userId: 'u-1', tenant: 'acme', expiresIn: 600 }), lambdaContext()));
    const result = await handlers.refreshToken(refresh(original.token), lambdaContext());
    expect(result.statusCode).toBe(200);
    const renewed = json(result);
    const before = decodeJwt(original.token).payload;
    const after = decodeJwt(renewed.token).payload;
    expect(after).toMatchObject({
      room: before.room,
      sub: 'acme',
      moderator: true,
      context: { user: { id: 'u-1', name: 'Depth Person', affiliation: 'owner' } },
    });
    // The original lifetime, not the default one.
    expect(after.exp - after.iat).toBe(600);
    expect(after.session_start).toBe(before.session_start);
    expect(renewed.joinUrl).toBe('https://meet.example.test/acme/room-1');
    expect(jitsiRuleViolations(renewed.token, { appId: 'test-app', audience: 'test-app', sub: 'acme', maxLifetime: 86_400 })).toEqual([]);
  });

  it('renews a token expired less than the grace ago, and refuses older or foreign ones', async () => {
    const handlers = await loadHandlers({ REFRESH_GRACE_SECONDS: '600' });
    const base = { iss: 'test-app', aud: 'test-app', sub: 'meet.example.test', room: 'r', moderator: false, context: { user: { id: 'u', name: 'N' } } };
    const justExpired = hs({ alg: 'HS256', typ: 'JWT' }, { ...base, iat: now() - 4000, nbf: now() - 4030, exp: now() - 300 });
    expect((await handlers.refreshToken(refresh(justExpired), lambdaContext())).statusCode).toBe(200);
    const longExpired = hs({ alg: 'HS256', typ: 'JWT' }, { ...base, iat: now() - 8000, nbf: now() - 8030, exp: now() - 700 });
    const refused = await handlers.refreshToken(refresh(longExpired), lambdaContext());
    expect(refused.statusCode).toBe(400);
    expect(json(refused)).toMatchObject({ field: 'token', detail: 'cannot be refreshed (reason: expired)' });
    const foreign = hs({ alg: 'HS256', typ: 'JWT' }, { ...base, iat: now(), exp: now() + 60 }, 'someone-elses-secret-someone-elses-secret');
    expect(json(await handlers.refreshToken(refresh(foreign), lambdaContext()))).toMatchObject({
      status: 400,
      detail: 'cannot be refreshed (reason: bad_signature)',
    });
  });

  it('with caller authentication, renews only for the holder, and a moderator token only while the role is held', async () => {
    const handlers = await loadHandlers({ AUTH_MODE: 'jwt', MODERATOR_CLAIM: 'roles', MODERATOR_VALUES: 'therapist' });
    const therapist = { sub: 't-1', name: 'Therapist', roles: '[therapist]' };
    const token = json(await handlers.generateToken(generate({ isModerator: true, userName: undefined }, therapist), lambdaContext())).token;
    expect((await handlers.refreshToken(refresh(token, therapist), lambdaContext())).statusCode).toBe(200);
    expect((await handlers.refreshToken(refresh(token, { sub: 'someone-else', name: 'X', roles: '[therapist]' }), lambdaContext())).statusCode).toBe(403);
    expect((await handlers.refreshToken(refresh(token, { ...therapist, roles: '[]' }), lambdaContext())).statusCode).toBe(403);
    expect((await handlers.refreshToken(refresh(token), lambdaContext())).statusCode).toBe(401);
  });
});

describe('token doctor: every reason Jitsi refuses, from a test token', () => {
  const good = () => ({ iss: 'test-app', aud: 'test-app', sub: 'meet.example.test', room: 'room-1', iat: now(), nbf: now() - 30, exp: now() + 600 });
  const H = { alg: 'HS256', typ: 'JWT' };
  const cases: Array<[string, () => Record<string, unknown>]> = [
    ['malformed', () => ({ token: 'not.a-token' })],
    ['wrong_typ', () => ({ token: hs({ alg: 'HS256', typ: 'jwt' }, good()) })],
    ['wrong_alg', () => ({ token: hs({ alg: 'HS512', typ: 'JWT' }, good()) })],
    ['bad_signature', () => ({ token: hs(H, good(), 'wrong-secret-wrong-secret-wrong-secret-0') })],
    ['expired', () => ({ token: hs(H, { ...good(), exp: now() - 1 }) })],
    ['not_yet_valid', () => ({ token: hs(H, { ...good(), nbf: now() + 60 }) })],
    ['missing_claim', () => ({ token: hs(H, { ...good(), room: undefined }) })],
    ['wrong_issuer', () => ({ token: hs(H, { ...good(), iss: 'other' }) })],
    ['wrong_audience', () => ({ token: hs(H, { ...good(), aud: 'other' }) })],
    ['room_mismatch', () => ({ token: hs(H, good()), roomName: 'room-2' })],
    ['sub_mismatch', () => ({ token: hs(H, { ...good(), sub: 'acme' }) })],
    ['wildcard', () => ({ token: hs(H, { ...good(), room: '*' }) })],
    ['lifetime_too_long', () => ({ token: hs(H, { ...good(), exp: now() + 3 * 86_400 }) })],
  ];

  it.each(cases)('%s', async (reason, body) => {
    const handlers = await loadHandlers();
    const result = await handlers.validateToken(validate(body()), lambdaContext());
    expect(json(result)).toEqual({ valid: false, reason });
  });

  it('says yes for the right room in any letter case, as Prosody compares', async () => {
    const handlers = await loadHandlers();
    expect(json(await handlers.validateToken(validate({ token: hs(H, good()), roomName: 'room-1' }), lambdaContext()))).toMatchObject({
      valid: true,
      room: 'room-1',
    });
    expect(json(await handlers.validateToken(validate({ token: hs(H, { ...good(), room: 'ROOM-1' }), roomName: 'room-1' }), lambdaContext()))).toMatchObject({
      valid: true,
    });
  });
});
