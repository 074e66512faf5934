// The README's identity-provider recipes work as written: each line of context values, passed to
// the stack exactly as shown, gives the deployed functions settings under which a caller token
// shaped like that provider's, holding the role the recipe names, is a moderator, and a token
// without it is not. Claims arrive as API Gateway's JWT authorizer passes them (arrays
// flattened to "[a b]").
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../lib/config.ts';
import { identifyCaller } from '../../lib/policy.ts';
import { synth } from '../helpers/synth.ts';

const readme = readFileSync('README.md', 'utf8');

/** The `-c key=value` pairs of the README's recipe line for one provider. */
function recipe(provider: string): Record<string, string> {
  const line = new RegExp(`^${provider}:\\s+(.+)$`, 'm').exec(readme)?.[1];
  if (!line) throw new Error(`the README has no recipe line for ${provider}`);
  return Object.fromEntries([...line.matchAll(/-c ([A-Za-z]+)=(\S+)/g)].map((match) => [match[1]!, match[2]!]));
}

/** The settings a deployed function reads: its literal environment values from the template. */
function deployedSettings(context: Record<string, string>) {
  const { template } = synth(context);
  const functions = Object.values(template.findResources('AWS::Lambda::Function')) as Array<{
    Properties: { Environment?: { Variables?: Record<string, unknown> } };
  }>;
  const variables = functions[0]?.Properties.Environment?.Variables ?? {};
  const literal = Object.fromEntries(Object.entries(variables).filter(([, value]) => typeof value === 'string')) as Record<string, string>;
  // The secret's ARN is a CloudFormation reference in the template; any ARN does for this check.
  return loadSettings({ ...literal, JITSI_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:jitsi-AbCdEf' });
}

const caller = (claims: Record<string, unknown>) => ({ requestContext: { authorizer: { jwt: { claims: { sub: 'user-1', ...claims } } } } });

describe("the README's identity-provider recipes", () => {
  it.each([
    ['Cognito', { 'cognito:groups': '[therapists]' }, { 'cognito:groups': '[clients]' }],
    ['Auth0', { 'https://app.example.com/roles': '[therapist]' }, { 'https://app.example.com/roles': '[client]' }],
    ['Firebase', { role: 'therapist' }, { role: 'client' }],
  ])('%s: the values shown make a therapist a moderator, and nobody else', (provider, therapistClaims, clientClaims) => {
    const context = recipe(provider);
    expect(Object.keys(context).sort()).toEqual(['authAudience', 'authIssuer', 'moderatorClaim', 'moderatorValues']);
    const settings = deployedSettings(context);
    expect(settings.authMode).toBe('jwt');
    expect(identifyCaller(caller(therapistClaims), settings)?.isModerator).toBe(true);
    expect(identifyCaller(caller(clientClaims), settings)?.isModerator).toBe(false);
    expect(identifyCaller(caller({}), settings)?.isModerator).toBe(false);
  });
});
