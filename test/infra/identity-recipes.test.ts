// The README's identity-provider recipes work as written: each line of context values, passed to
// the stack exactly as shown, gives the deployed functions settings under which a caller token
// shaped like that provider's, holding the role the recipe names, is a moderator, and a token
// without it is not. Claims arrive as API Gateway's JWT authorizer passes them (arrays
// flattened to "[a b]").
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { audienceAccepted, flattenClaims } from '../../infra/local/auth.ts';
import { loadSettings } from '../../lib/config.ts';
import { identifyCaller } from '../../lib/policy.ts';
import { synth } from '../helpers/synth.ts';

const readme = readFileSync('README.md', 'utf8');

/** The `-c key=value` pairs of the README's recipe line for one provider. */
function recipe(provider: string): Record<string, string> {
  const line = new RegExp(`^${provider}:\\s+(.+)$`, 'm').exec(readme)?.[1];
  if (!line) throw new Error(`the README has no recipe line for ${provider}`);
  // A value is one word, or a <placeholder> that may hold spaces.
  return Object.fromEntries([...line.matchAll(/-c ([A-Za-z]+)=(<[^>]+>|\S+)/g)].map((match) => [match[1]!, match[2]!]));
}

/** The settings a deployed function reads: its literal environment values from the template. */
type Template = ReturnType<typeof synth>['template'];

function deployedSettings(template: Template) {
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
    const settings = deployedSettings(synth(context).template);
    expect(settings.authMode).toBe('jwt');
    expect(identifyCaller(caller(therapistClaims), settings)?.isModerator).toBe(true);
    expect(identifyCaller(caller(clientClaims), settings)?.isModerator).toBe(false);
    expect(identifyCaller(caller({}), settings)?.isModerator).toBe(false);
  });
});

/** The synthesized JWT authorizer's issuer and audiences. */
function authorizerOf(template: Template): { issuer: string; audiences: string[] } {
  const [authorizer] = Object.values(template.findResources('AWS::ApiGatewayV2::Authorizer')) as Array<{
    Properties: { JwtConfiguration: { Issuer: string; Audience: string[] } };
  }>;
  return { issuer: authorizer!.Properties.JwtConfiguration.Issuer, audiences: authorizer!.Properties.JwtConfiguration.Audience };
}

/** API Gateway's iss and aud rules (the signature, kid and times are the local authenticator's tests). */
const passesAuthorizer = (payload: Record<string, unknown>, authorizer: { issuer: string; audiences: string[] }) =>
  payload.iss === authorizer.issuer && authorizer.audiences.some((audience) => audienceAccepted(payload, audience));

// The tokens each provider issues, with the claims it puts in them, for the recipe's values:
// the ID token the README tells the front end to send, and the provider's access token.
// Their aud is what the provider puts there, never read from the recipe: a recipe naming the wrong
// audience fails. The client ids are the README's placeholders.
const now = 1_790_000_000;
const COGNITO_APP_CLIENT_ID = '<app client id>';
const AUTH0_CLIENT_ID = '<application client id>';
const AUTH0_API_IDENTIFIER = 'https://api.acme.example';
const firebaseProjectOf = (issuer: string | undefined) => issuer?.replace('https://securetoken.google.com/', '');
const TOKENS: Record<string, (context: Record<string, string>, roles: string[]) => { id: Record<string, unknown>; access: Record<string, unknown> }> = {
  Cognito: (context, roles) => ({
    id: {
      iss: context.authIssuer,
      aud: COGNITO_APP_CLIENT_ID,
      token_use: 'id',
      sub: '1a2b3c4d-0000-4000-8000-000000000001',
      'cognito:groups': roles,
      email_verified: true,
      auth_time: now,
      iat: now,
      exp: now + 3600,
    },
    // Cognito access tokens carry no aud: API Gateway checks client_id instead.
    access: {
      iss: context.authIssuer,
      client_id: COGNITO_APP_CLIENT_ID,
      token_use: 'access',
      sub: '1a2b3c4d-0000-4000-8000-000000000001',
      'cognito:groups': roles,
      scope: 'openid email',
      iat: now,
      exp: now + 3600,
    },
  }),
  Auth0: (context, roles) => ({
    id: {
      iss: context.authIssuer,
      aud: AUTH0_CLIENT_ID,
      sub: 'auth0|64f0c0ffee0000000000000a',
      [context.moderatorClaim!]: roles,
      email_verified: true,
      nonce: 'n-0S6_WzA2Mj',
      sid: 'sid-1',
      iat: now,
      exp: now + 36000,
    },
    // An access token for the API: aud is the API identifier (and the userinfo URL), azp the client id.
    access: {
      iss: context.authIssuer,
      aud: [AUTH0_API_IDENTIFIER, `${context.authIssuer}userinfo`],
      azp: AUTH0_CLIENT_ID,
      sub: 'auth0|64f0c0ffee0000000000000a',
      scope: 'openid profile email',
      iat: now,
      exp: now + 86400,
    },
  }),
  Firebase: (context, roles) => ({
    id: {
      iss: context.authIssuer,
      aud: firebaseProjectOf(context.authIssuer),
      sub: 'Xk2LrT9uQbZcYw8Vn1Pq3Ms4Ab52',
      user_id: 'Xk2LrT9uQbZcYw8Vn1Pq3Ms4Ab52',
      [context.moderatorClaim!]: roles[0],
      auth_time: now,
      firebase: { identities: {}, sign_in_provider: 'password' },
      iat: now,
      exp: now + 3600,
    },
    // Firebase issues ID tokens only; its refresh token is not a JWT.
    access: {},
  }),
};

describe('each recipe end to end: the token the README says to send passes the synthesized authorizer and carries the role', () => {
  it.each([
    ['Cognito', ['therapists'], ['clients']],
    ['Auth0', ['therapist'], ['client']],
    ['Firebase', ['therapist'], ['client']],
  ])('%s', (provider, therapistRoles, clientRoles) => {
    const context = recipe(provider);
    const { template } = synth(context);
    const authorizer = authorizerOf(template);
    const settings = deployedSettings(template);
    const therapist = TOKENS[provider]!(context, therapistRoles);
    const client = TOKENS[provider]!(context, clientRoles);
    expect(passesAuthorizer(therapist.id, authorizer)).toBe(true);
    expect(identifyCaller(caller(flattenClaims(therapist.id)), settings)?.isModerator).toBe(true);
    expect(passesAuthorizer(client.id, authorizer)).toBe(true);
    expect(identifyCaller(caller(flattenClaims(client.id)), settings)?.isModerator).toBe(false);
  });

  it('Auth0: an access token for the API is refused under the ID-token recipe (the front end must send the ID token)', () => {
    const context = recipe('Auth0');
    expect(passesAuthorizer(TOKENS.Auth0!(context, ['therapist']).access, authorizerOf(synth(context).template))).toBe(false);
  });

  it('Cognito: an access token passes too (client_id), and keeps its groups', () => {
    const context = recipe('Cognito');
    const access = TOKENS.Cognito!(context, ['therapists']).access;
    const { template } = synth(context);
    expect(passesAuthorizer(access, authorizerOf(template))).toBe(true);
    expect(identifyCaller(caller(flattenClaims(access)), deployedSettings(template))?.isModerator).toBe(true);
  });
});
