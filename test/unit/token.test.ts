import { createHmac, createSecretKey, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { buildJitsiClaims, createSigningKey, signJitsiToken, tokenTimesFrom, verifyJitsiToken, type TokenGrant } from '../../lib/token.ts';
import { DEFAULT_MODERATOR_FEATURES, DEFAULT_PARTICIPANT_FEATURES, featureSet } from '../../lib/features.ts';
import { b64url, decodeJwt, jitsiRuleViolations } from '../helpers/jwt.ts';

const SECRET = 'unit-test-app-secret-that-is-long-enough-0123456789';
const key = createSigningKey(SECRET);
const features = {
  moderatorFeatures: featureSet(DEFAULT_MODERATOR_FEATURES),
  participantFeatures: featureSet(DEFAULT_PARTICIPANT_FEATURES),
  tokenEmail: 'all' as const,
};
const issuer = { appId: 'my-app', audience: 'my-aud', sub: 'meet.jitsi', group: undefined, ...features };
const expected = { appId: 'my-app', audience: 'my-aud', sub: 'meet.jitsi', maxLifetimeSeconds: 86_400 + 30 };
const NOW = 1_800_000_000;

function grant(overrides: Partial<TokenGrant> = {}): TokenGrant {
  return { room: 'room-1', user: { id: 'u-1', name: 'Ada' }, moderator: false, ...tokenTimesFrom(NOW, 3600), ...overrides };
}

/** An HS256 token signed by hand with node:crypto, for tokens our library would never make. */
function handSigned(header: Record<string, unknown>, payload: Record<string, unknown>, secret = SECRET): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

const goodPayload = { iss: 'my-app', aud: 'my-aud', sub: 'meet.jitsi', room: 'room-1', iat: NOW, nbf: NOW - 30, exp: NOW + 3600 };

describe('buildJitsiClaims and signJitsiToken', () => {
  it('writes every claim Jitsi reads, decoded independently', () => {
    const token = signJitsiToken(
      buildJitsiClaims(grant({ moderator: true, user: { id: 'u-1', name: 'Ada', email: 'ada@example.com' } }), { ...issuer, group: 'wellness' }),
      key,
    );
    const { header, payload } = decodeJwt(token);
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(payload).toMatchObject({
      iss: 'my-app',
      aud: 'my-aud',
      sub: 'meet.jitsi',
      room: 'room-1',
      iat: NOW,
      nbf: NOW - 30,
      exp: NOW + 3600,
      moderator: true,
    });
    expect(payload.context.user).toEqual({ id: 'u-1', name: 'Ada', email: 'ada@example.com', moderator: 'true', affiliation: 'owner' });
    expect(payload.context.group).toBe('wellness');
    expect(payload.context.features).toMatchObject({ recording: false, livestreaming: false, transcription: false });
    expect(jitsiRuleViolations(token, { appId: 'my-app', audience: 'my-aud', sub: 'meet.jitsi', maxLifetime: 86_400 }, NOW)).toEqual([]);
  });

  it('signs with HS256 over header.payload with the app secret (checked with node:crypto)', () => {
    const token = signJitsiToken(buildJitsiClaims(grant(), issuer), key);
    const [h, p, s] = token.split('.');
    expect(s).toBe(createHmac('sha256', SECRET).update(`${h}.${p}`).digest('base64url'));
  });

  it('gives participants the member role everywhere and no email or avatar unless given', () => {
    const { payload } = decodeJwt(signJitsiToken(buildJitsiClaims(grant(), issuer), key));
    expect(payload.moderator).toBe(false);
    expect(payload.context.user).toEqual({ id: 'u-1', name: 'Ada', moderator: 'false', affiliation: 'member' });
    expect(payload.context).not.toHaveProperty('group');
  });

  it('keeps nbf 30 s in the past and exp in whole seconds', () => {
    expect(tokenTimesFrom(NOW, 60)).toEqual({ issuedAt: NOW, notBefore: NOW - 30, expiresAt: NOW + 60 });
  });

  it('makes tokens jsonwebtoken verifies, HS256 and RS256 with its kid (an independent implementation)', () => {
    const claims = () => buildJitsiClaims(grant(), issuer);
    const hs = jwt.verify(signJitsiToken(claims(), key), SECRET, { algorithms: ['HS256'], clockTimestamp: NOW, complete: true });
    expect(hs.header).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(hs.payload).toEqual(JSON.parse(JSON.stringify(claims())));
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rs = jwt.verify(signJitsiToken(claims(), privateKey, 'kid-2026'), publicKey, { algorithms: ['RS256'], clockTimestamp: NOW, complete: true });
    expect(rs.header).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'kid-2026' });
  });

  it('signs nothing whose times are not whole seconds, that never becomes valid, or that names every room; RS256 only with an RSA key and a kid', () => {
    const claims = buildJitsiClaims(grant(), issuer);
    expect(() => signJitsiToken({ ...claims, exp: claims.exp + 0.5 }, key)).toThrow(/whole seconds/);
    expect(() => signJitsiToken({ ...claims, nbf: claims.exp }, key)).toThrow(/expire after/);
    expect(() => signJitsiToken({ ...claims, room: '*' }, key)).toThrow(/every room/);
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect(() => signJitsiToken(claims, privateKey)).toThrow(/needs a kid/);
    expect(() => signJitsiToken(claims, publicKey, 'kid')).toThrow(/RSA private key/);
    expect(() => signJitsiToken(claims, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'kid')).toThrow(/RSA private key/);
  });

  it('refuses secrets shorter than 32 bytes', () => {
    expect(() => createSigningKey('x'.repeat(31))).toThrow(RangeError);
    expect(() => createSigningKey('x'.repeat(32))).not.toThrow();
  });
});

describe('verifyJitsiToken', () => {
  const verify = (token: string, now = NOW) => verifyJitsiToken(token, [key], expected, now);

  it('accepts our own token and reports room, role and user', () => {
    const token = signJitsiToken(buildJitsiClaims(grant({ moderator: true }), issuer), key);
    expect(verify(token)).toEqual({
      valid: true,
      token: {
        room: 'room-1',
        sub: 'meet.jitsi',
        user: { id: 'u-1', name: 'Ada' },
        moderator: true,
        issuedAt: NOW,
        expiresAt: NOW + 3600,
        notBefore: NOW - 30,
        appointmentVersion: undefined,
        sessionStart: NOW,
      },
    });
  });

  it('has no clock tolerance, exactly as Prosody: now >= exp and now < nbf fail', () => {
    const token = handSigned({ alg: 'HS256', typ: 'JWT' }, goodPayload);
    expect(verify(token, NOW + 3599).valid).toBe(true);
    expect(verify(token, NOW + 3600)).toEqual({ valid: false, reason: 'expired' });
    expect(verify(token, NOW - 30).valid).toBe(true);
    expect(verify(token, NOW - 31)).toEqual({ valid: false, reason: 'not_yet_valid' });
  });

  it.each([
    ['two parts', 'a.b', 'malformed'],
    ['four parts', 'a.b.c.d', 'malformed'],
    ['padding', `${handSigned({ alg: 'HS256', typ: 'JWT' }, goodPayload)}=`, 'malformed'],
    ['whitespace', ` ${handSigned({ alg: 'HS256', typ: 'JWT' }, goodPayload)}`, 'malformed'],
    ['header not JSON', `${b64url('nope')}.${b64url(goodPayload)}.sig`, 'malformed'],
    ['typ missing', handSigned({ alg: 'HS256' }, goodPayload), 'wrong_typ'],
    ['typ lowercase', handSigned({ alg: 'HS256', typ: 'jwt' }, goodPayload), 'wrong_typ'],
    ['alg none', `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(goodPayload)}.`, 'malformed'],
    ['alg none with a dot-signature', `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(goodPayload)}.x`, 'wrong_alg'],
    ['alg HS384', handSigned({ alg: 'HS384', typ: 'JWT' }, goodPayload), 'wrong_alg'],
    ['crit header', handSigned({ alg: 'HS256', typ: 'JWT', crit: ['exp'] }, goodPayload), 'malformed'],
    ['wrong key', handSigned({ alg: 'HS256', typ: 'JWT' }, goodPayload, 'another-secret-that-is-also-long-enough!!'), 'bad_signature'],
    ['no exp', handSigned({ alg: 'HS256', typ: 'JWT' }, { ...goodPayload, exp: undefined }), 'missing_claim'],
    ['no iss', handSigned({ alg: 'HS256', typ: 'JWT' }, { ...goodPayload, iss: undefined }), 'missing_claim'],
    ['no aud', handSigned({ alg: 'HS256', typ: 'JWT' }, { ...goodPayload, aud: undefined }), 'missing_claim'],
    ['no sub', handSigned({ alg: 'HS256', typ: 'JWT' }, { ...goodPayload, sub: undefined }), 'missing_claim'],
    ['no room', handSigned({ alg: 'HS256', typ: 'JWT' }, { ...goodPayload, room: undefined }), 'missing_claim'],
    ['exp as string', handSigned({ alg: 'HS256', typ: 'JWT' }, { ...goodPayload, exp: String(NOW + 60) }), 'malformed'],
    ['wrong iss', handSigned({ alg: 'HS256', typ: 'JWT' }, { ...goodPayload, iss: 'My-App' }), 'wrong_issuer'],
    ['wrong aud', handSigned({ alg: 'HS256', typ: 'JWT' }, { ...goodPayload, aud: 'other' }), 'wrong_audience'],
    ['room *', handSigned({ alg: 'HS256', typ: 'JWT' }, { ...goodPayload, room: '*' }), 'wildcard'],
    ['sub *', handSigned({ alg: 'HS256', typ: 'JWT' }, { ...goodPayload, sub: '*' }), 'wildcard'],
    ['room regex', handSigned({ alg: 'HS256', typ: 'JWT' }, { ...goodPayload, context: { room: { regex: true } } }), 'wildcard'],
    ['other sub', handSigned({ alg: 'HS256', typ: 'JWT' }, { ...goodPayload, sub: 'other.domain' }), 'sub_mismatch'],
    ['exp in milliseconds', handSigned({ alg: 'HS256', typ: 'JWT' }, { ...goodPayload, exp: (NOW + 3600) * 1000 }), 'lifetime_too_long'],
    ['lifetime over the maximum', handSigned({ alg: 'HS256', typ: 'JWT' }, { ...goodPayload, exp: NOW - 30 + 86_400 + 31 }), 'lifetime_too_long'],
    [
      'far exp without nbf or iat',
      handSigned({ alg: 'HS256', typ: 'JWT' }, { ...goodPayload, nbf: undefined, iat: undefined, exp: NOW + 10 * 86_400 }),
      'lifetime_too_long',
    ],
  ])('refuses %s (%s)', (_, token, reason) => {
    expect(verify(token)).toEqual({ valid: false, reason });
  });

  it('never lets an RSA public key act as the HMAC key (the key is always ours)', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const forgedWithPem = handSigned({ alg: 'HS256', typ: 'JWT' }, goodPayload, pem);
    expect(verify(forgedWithPem)).toEqual({ valid: false, reason: 'bad_signature' });
    const rs256 = jwt.sign(goodPayload, privateKey, { algorithm: 'RS256', header: { alg: 'RS256', typ: 'JWT' } });
    expect(verify(rs256)).toEqual({ valid: false, reason: 'wrong_alg' });
  });

  it('ignores jwk, jku, x5u and kid headers when choosing the key', () => {
    const attacker = 'attacker-chosen-secret-long-enough-to-be-a-key';
    const header = {
      alg: 'HS256',
      typ: 'JWT',
      jku: 'https://evil.example/jwks',
      x5u: 'https://evil.example/cert',
      kid: '../../dev/null',
      jwk: { kty: 'oct', k: b64url(attacker) },
    };
    expect(verify(handSigned(header, goodPayload, attacker))).toEqual({ valid: false, reason: 'bad_signature' });
    expect(verify(handSigned(header, goodPayload)).valid).toBe(true);
  });

  it('accepts a token signed with any of the given keys (rotation) and refuses an altered payload', () => {
    const oldKey = createSecretKey(Buffer.from('previous-secret-previous-secret-previous'));
    const token = handSigned({ alg: 'HS256', typ: 'JWT' }, goodPayload, 'previous-secret-previous-secret-previous');
    expect(verifyJitsiToken(token, [key, oldKey], expected, NOW).valid).toBe(true);
    const [h, , s] = token.split('.');
    expect(verifyJitsiToken(`${h}.${b64url({ ...goodPayload, room: 'other' })}.${s}`, [key, oldKey], expected, NOW)).toEqual({
      valid: false,
      reason: 'bad_signature',
    });
  });

  it('never reaches jwt.sign with request-shaped keys: claims are built field by field', () => {
    const hostile = JSON.parse('{"id":"u","name":"N","toString":"x","__proto__":{"admin":true},"constructor":"c"}');
    const claims = buildJitsiClaims(grant({ user: hostile }), issuer);
    expect(Object.keys(claims.context.user).sort()).toEqual(['affiliation', 'id', 'moderator', 'name']);
    expect(() => signJitsiToken(claims, key)).not.toThrow();
  });
});
