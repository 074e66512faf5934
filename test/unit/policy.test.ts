import { describe, expect, it } from 'vitest';
import { claimValues, identifyCaller } from '../../lib/policy.ts';
import { UnauthenticatedError } from '../../lib/errors.ts';

const settings = { authMode: 'jwt' as const, moderatorClaim: 'cognito:groups', moderatorValues: ['therapists'] };
const withClaims = (claims: Record<string, unknown>) => ({ requestContext: { authorizer: { jwt: { claims } } } });

describe('claimValues', () => {
  it.each([
    [
      ['a', 'b'],
      ['a', 'b'],
    ],
    ['[a b]', ['a', 'b']],
    ['a,b', ['a', 'b']],
    ['a, b', ['a', 'b']],
    ['a', ['a']],
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

  it('reads id, name, email and role from the claims', () => {
    expect(identifyCaller(withClaims({ sub: 'u1', name: 'N', email: 'e@example.com', 'cognito:groups': '[therapists]' }), settings)).toEqual({
      id: 'u1',
      name: 'N',
      email: 'e@example.com',
      isModerator: true,
    });
  });

  it('skips a name claim that would not be a safe display name', () => {
    expect(identifyCaller(withClaims({ sub: 'u1', name: 'Evil\u202e', given_name: 'Good', family_name: 'Name' }), settings)?.name).toBe('Good Name');
  });

  it('answers 401 with no claims or no sub', () => {
    for (const event of [{}, { requestContext: {} }, withClaims({}), withClaims({ sub: '' }), withClaims({ sub: 5 })]) {
      expect(() => identifyCaller(event, settings)).toThrow(UnauthenticatedError);
    }
  });
});
