import { describe, expect, it } from 'vitest';
import { claimValues, identifyCaller } from '../../lib/policy.ts';
import { UnauthenticatedError } from '../../lib/errors.ts';

const settings = {
  authMode: 'jwt' as const,
  moderatorClaim: 'cognito:groups',
  moderatorValues: ['therapists'],
  avatarHosts: ['avatars.example.com'],
  trustUnverifiedEmail: false,
};
const withClaims = (claims: Record<string, unknown>) => ({ requestContext: { authorizer: { jwt: { claims } } } });

describe('claimValues', () => {
  it.each([
    [
      ['a', 'b'],
      ['a', 'b'],
    ],
    ['[a b]', ['a', 'b']],
    // A plain string is one value: never split on commas or spaces.
    ['a,b', ['a,b']],
    ['a, b', ['a, b']],
    ['senior therapists', ['senior therapists']],
    // The bracketed form splits on single ASCII spaces only.
    ['[a\u00a0b]', ['a\u00a0b']],
    ['[a\u3000b c]', ['a\u3000b', 'c']],
    ['[a,b c]', ['a,b', 'c']],
    ['a', ['a']],
    // Arrays count their string elements only: nothing nested, no objects or numbers.
    [[['therapists']], []],
    [[{ name: 'therapists' }], []],
    [[7, 'x'], ['x']],
    ['[]', []],
    ['', []],
    [42, []],
    [undefined, []],
    [[1, 'a'], ['a']],
  ])('reads %j as %j', (claim, values) => expect(claimValues(claim)).toEqual(values));
});

describe('identifyCaller', () => {
  it('is undefined when AUTH_MODE=none, whatever the event holds', () => {
    expect(identifyCaller(withClaims({ sub: 'x' }), { ...settings, authMode: 'none' })).toBeUndefined();
  });

  it('reads id, name, a verified email, an allowed picture and the role from the claims', () => {
    const claims = {
      sub: 'u1',
      name: 'N',
      email: 'e@example.com',
      email_verified: 'true',
      picture: 'https://avatars.example.com/u1.png',
      'cognito:groups': '[therapists]',
    };
    expect(identifyCaller(withClaims(claims), settings)).toEqual({
      id: 'u1',
      name: 'N',
      email: 'e@example.com',
      avatar: 'https://avatars.example.com/u1.png',
      isModerator: true,
    });
  });

  it('matches role values exactly: case, substrings, near-spaces and lists are no match', () => {
    const roleOf = (groups: unknown) => identifyCaller(withClaims({ sub: 'u1', 'cognito:groups': groups }), settings)?.isModerator;
    for (const granted of ['therapists', ['therapists'], '[admins therapists]', ['admins', 'therapists']]) expect(roleOf(granted)).toBe(true);
    for (const refused of [
      'Therapists',
      'THERAPISTS',
      'therapist',
      'therapists ',
      ' therapists',
      'therapists,admins',
      'admins therapists',
      '[therapists\u00a0admins]',
      '[therapists\u3000admins]',
      [['therapists']],
      [{ therapists: true }],
      1,
      true,
    ]) {
      expect(roleOf(refused), JSON.stringify(refused)).toBe(false);
    }
  });

  it('takes an email only when the issuer verified it (or sends no such claim and the operator trusts that)', () => {
    const emailOf = (claims: Record<string, unknown>, trust = false) =>
      identifyCaller(withClaims({ sub: 'u1', email: 'e@example.com', ...claims }), { ...settings, trustUnverifiedEmail: trust })?.email;
    expect(emailOf({ email_verified: true })).toBe('e@example.com');
    expect(emailOf({ email_verified: 'true' })).toBe('e@example.com');
    expect(emailOf({ email_verified: false }, true)).toBeUndefined();
    expect(emailOf({ email_verified: 'false' })).toBeUndefined();
    expect(emailOf({})).toBeUndefined();
    expect(emailOf({}, true)).toBe('e@example.com');
    expect(emailOf({ email: 'not an email', email_verified: true })).toBeUndefined();
  });

  it('takes an avatar only from picture, on an allowed https host', () => {
    const avatarOf = (picture: unknown) => identifyCaller(withClaims({ sub: 'u1', picture }), settings)?.avatar;
    expect(avatarOf('https://avatars.example.com/a.png')).toBe('https://avatars.example.com/a.png');
    for (const refused of [
      'https://tracker.example.net/a.png',
      'http://avatars.example.com/a.png',
      'https://1.2.3.4/a.png',
      'https://user:pw@avatars.example.com/a.png',
      'https://avatars.example.com:8443/a.png',
      'https://avatars.example.com/a b.png',
      42,
    ]) {
      expect(avatarOf(refused), String(refused)).toBeUndefined();
    }
  });

  it('puts claims through the body rules: a bad name is skipped for the next one, else a neutral label', () => {
    const nameOf = (claims: Record<string, unknown>) => identifyCaller(withClaims({ sub: 'u1', ...claims }), settings)?.name;
    expect(nameOf({ name: '\u3164', preferred_username: 'pref' })).toBe('pref');
    expect(nameOf({ name: 'A\u200eB' })).toBe('Participant');
    expect(nameOf({})).toBe('Participant');
  });

  it('skips a name claim that would not be a safe display name', () => {
    expect(identifyCaller(withClaims({ sub: 'u1', name: 'Evil\u202e', given_name: 'Good', family_name: 'Name' }), settings)?.name).toBe('Good Name');
  });

  it('answers 401 with no claims or no sub', () => {
    for (const event of [
      {},
      { requestContext: {} },
      withClaims({}),
      withClaims({ sub: '' }),
      withClaims({ sub: 5 }),
      withClaims({ sub: 'a b' }),
      withClaims({ sub: 'x'.repeat(200) }),
      withClaims({ sub: ['u1'] }),
    ]) {
      expect(() => identifyCaller(event, settings)).toThrow(UnauthenticatedError);
    }
  });
});

describe('identifyCaller, from the verified token in the Authorization header', () => {
  /** What API Gateway hands the function: the header the authorizer verified, and the claims it flattened. */
  const asGatewayHandsIt = (payload: Record<string, unknown>, flattened: Record<string, unknown>) => ({
    headers: {
      authorization: `Bearer ${Buffer.from('{"alg":"RS256","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.c2ln`,
    },
    requestContext: { authorizer: { jwt: { claims: flattened } } },
  });

  it("reads a group with a space as one group: 'former therapists' grants nothing, though flattened it reads [former therapists]", () => {
    const former = asGatewayHandsIt({ sub: 'u1', 'cognito:groups': ['former therapists'] }, { sub: 'u1', 'cognito:groups': '[former therapists]' });
    expect(identifyCaller(former, settings)?.isModerator).toBe(false);
    const current = asGatewayHandsIt({ sub: 'u1', 'cognito:groups': ['staff', 'therapists'] }, { sub: 'u1', 'cognito:groups': '[staff therapists]' });
    expect(identifyCaller(current, settings)?.isModerator).toBe(true);
  });

  it('refuses a subject that is not a string in the token (API Gateway would hand it over as one), or not the one handed over', () => {
    for (const sub of [123, true, null]) {
      expect(() => identifyCaller(asGatewayHandsIt({ sub }, { sub: String(sub) }), settings), String(sub)).toThrow(UnauthenticatedError);
    }
    expect(() => identifyCaller(asGatewayHandsIt({ sub: 'u2' }, { sub: 'u1' }), settings)).toThrow(UnauthenticatedError);
  });
});
