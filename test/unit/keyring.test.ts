// The rotation overlap: a token the previous secret signed counts only for a short, set time
// after the current secret version was created, whatever the token says about itself.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKeyring, withinRotationOverlap, type Clock } from '../../lib/keyring.ts';
import { createLogger } from '../../lib/log.ts';
import type { FetchedSecret } from '../../lib/secret.ts';
import { b64url } from '../helpers/jwt.ts';

const OLD = 'old-secret-old-secret-old-secret-old-secret-0';
const NEW = 'new-secret-new-secret-new-secret-new-secret-1';
const ROTATED_AT = 1_900_000_000;
const OVERLAP = 300;

const settings = {
  signing: 'hs256',
  secretRefreshSeconds: 300,
  secretStaleSeconds: 3600,
  secretRotationOverlapSeconds: OVERLAP,
  appId: 'test-app',
  audience: 'test-app',
  sub: 'meet.example.test',
  defaultTenant: undefined,
  tokenTtlMaxSeconds: 86_400,
} as const;

/** A token as whoever holds `secret` would write it, with times of their choosing. */
function signed(secret: string, times: { iat: number; nbf?: number; exp: number }): string {
  const input = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ iss: 'test-app', aud: 'test-app', sub: 'meet.example.test', room: 'room-1', ...times })}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

function keyringAt(start: number, current: FetchedSecret = { value: NEW, createdAt: ROTATED_AT }) {
  const clock: Clock & { now: number } = { now: start, nowSeconds: () => clock.now };
  const previousFetches: number[] = [];
  const keyring = createKeyring(
    settings,
    {
      current: async () => current,
      previous: async () => {
        previousFetches.push(clock.now);
        return { value: OLD };
      },
    },
    createLogger(() => {}),
    clock,
  );
  return { keyring, clock, previousFetches };
}

describe('withinRotationOverlap', () => {
  it('counts from when the current version was created, for the overlap only', () => {
    expect(withinRotationOverlap(ROTATED_AT, ROTATED_AT, OVERLAP)).toBe(true);
    expect(withinRotationOverlap(ROTATED_AT + OVERLAP - 1, ROTATED_AT, OVERLAP)).toBe(true);
    expect(withinRotationOverlap(ROTATED_AT + OVERLAP, ROTATED_AT, OVERLAP)).toBe(false);
    expect(withinRotationOverlap(ROTATED_AT + 86_400, ROTATED_AT, OVERLAP)).toBe(false);
    // A clock a little behind Secrets Manager's is still inside.
    expect(withinRotationOverlap(ROTATED_AT - 5, ROTATED_AT, OVERLAP)).toBe(true);
  });

  it('never accepts the previous secret when the creation time is unknown or the overlap is 0', () => {
    expect(withinRotationOverlap(ROTATED_AT, undefined, OVERLAP)).toBe(false);
    expect(withinRotationOverlap(ROTATED_AT, ROTATED_AT, 0)).toBe(false);
  });
});

describe('the keyring across a rotation (fake clock)', () => {
  it('says which secret signed a valid token: current, or previous inside the overlap', async () => {
    const { keyring } = keyringAt(ROTATED_AT + 60);
    const now = ROTATED_AT + 60;
    const current = await keyring.verify(signed(NEW, { iat: now, nbf: now - 30, exp: now + 600 }), undefined);
    expect(current).toMatchObject({ valid: true, signedWith: 'current' });
    const previous = await keyring.verify(signed(OLD, { iat: now, nbf: now - 30, exp: now + 600 }), undefined);
    expect(previous).toMatchObject({ valid: true, signedWith: 'previous' });
    expect(await keyring.verify(signed('a-third-secret-never-stored-anywhere-0123', { iat: now, exp: now + 600 }), undefined)).toEqual({
      valid: false,
      reason: 'bad_signature',
    });
  });

  it('refuses the previous secret after the overlap, whatever iat the token claims, without asking for it', async () => {
    const { keyring, clock, previousFetches } = keyringAt(ROTATED_AT + OVERLAP);
    const now = clock.now;
    // Claims to be issued before the rotation, still within the longest lifetime: the old rule's loophole.
    for (const iat of [ROTATED_AT - 10, ROTATED_AT, now]) {
      expect(await keyring.verify(signed(OLD, { iat, nbf: iat - 30, exp: now + 600 }), undefined)).toEqual({ valid: false, reason: 'bad_signature' });
    }
    expect(previousFetches).toEqual([]);
    clock.now = ROTATED_AT + 86_400;
    expect(await keyring.verify(signed(OLD, { iat: clock.now, exp: clock.now + 600 }), undefined)).toEqual({ valid: false, reason: 'bad_signature' });
  });

  it('moves from previous to refused when the clock passes the end of the overlap', async () => {
    const { keyring, clock } = keyringAt(ROTATED_AT + OVERLAP - 1);
    const token = signed(OLD, { iat: ROTATED_AT, exp: ROTATED_AT + 3600 });
    expect(await keyring.verify(token, undefined)).toMatchObject({ valid: true, signedWith: 'previous' });
    clock.now += 1;
    expect(await keyring.verify(token, undefined)).toEqual({ valid: false, reason: 'bad_signature' });
  });

  it('never uses the previous secret for refresh, nor when Secrets Manager gave no creation time', async () => {
    const now = ROTATED_AT + 60;
    const token = signed(OLD, { iat: now, exp: now + 600 });
    expect(await keyringAt(now).keyring.verify(token, undefined, { currentSecretOnly: true })).toEqual({ valid: false, reason: 'bad_signature' });
    const undated = keyringAt(now, { value: NEW });
    expect(await undated.keyring.verify(token, undefined)).toEqual({ valid: false, reason: 'bad_signature' });
    expect(undated.previousFetches).toEqual([]);
  });
});
