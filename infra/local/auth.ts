// Caller authentication for the local server in AUTH_MODE=jwt, doing what API Gateway's JWT
// authorizer does: OIDC discovery and JWKS from the issuer, RS256, exp/nbf/iss/aud (or
// client_id, as Cognito access tokens carry it), then claims flattened to strings the way
// the HTTP API hands them to a function.
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { SETTINGS, type LocalSettings } from '#lib/config';

/** Authenticates a request in jwt mode and returns the claims for the event. */
export type Authenticator = (authorization: string | undefined) => Promise<Record<string, unknown>>;

const DISCOVERY_TIMEOUT_MS = 3_000;
/** API Gateway supports RSA-based algorithms only. */
const RSA_ALGORITHMS = ['RS256', 'RS384', 'RS512'];

async function discoverJwksUri(issuer: string): Promise<URL> {
  const response = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`OIDC discovery answered ${response.status}`);
  const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
  if (typeof document.jwks_uri !== 'string') throw new Error('OIDC discovery document has no jwks_uri');
  return new URL(document.jwks_uri);
}

/** API Gateway passes every claim as a string, and an array as "[a b c]". */
export function flattenClaims(payload: JWTPayload): Record<string, string> {
  const claims: Record<string, string> = {};
  for (const [name, value] of Object.entries(payload)) {
    if (Array.isArray(value)) claims[name] = `[${value.join(' ')}]`;
    else if (typeof value === 'object' && value !== null) claims[name] = JSON.stringify(value);
    else if (value !== undefined) claims[name] = String(value);
  }
  return claims;
}

/** The authorizer's audience rule: `aud` (a string or an array) when present; `client_id` only when `aud` is absent. */
export function audienceAccepted(payload: Pick<JWTPayload, 'aud'> & { client_id?: unknown }, audience: string): boolean {
  if (payload.aud === undefined) return payload.client_id === audience;
  return (Array.isArray(payload.aud) ? payload.aud : [payload.aud]).includes(audience);
}

export function createAuthenticator(settings: Pick<LocalSettings, 'authIssuer' | 'authAudience'>): Authenticator {
  const { authIssuer: issuer, authAudience: audience } = settings;
  if (issuer === undefined || audience === undefined) {
    throw new Error(
      `${SETTINGS.authMode.variable}=jwt needs ${SETTINGS.authIssuer.variable} (the OIDC issuer URL) and ${SETTINGS.authAudience.variable} (the app client id) for the local server`,
    );
  }
  let keySet: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  const keys = () => {
    keySet ??= discoverJwksUri(issuer).then((uri) => createRemoteJWKSet(uri, { timeoutDuration: DISCOVERY_TIMEOUT_MS }));
    keySet.catch(() => {
      keySet = undefined;
    });
    return keySet;
  };
  // The rules of API Gateway's HTTP API JWT authorizer, no more and no less (docs/SECURITY.md,
  // "The local authenticator").
  return async (authorization) => {
    // The identity source may hold the token alone or after "Bearer ".
    const token = /^(?:Bearer )?([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(authorization ?? '')?.[1];
    if (token === undefined) throw new Error('no bearer token');
    // RSA signatures only, checked with the issuer's JWKS; exp after now, nbf before now, no tolerance.
    const { payload, protectedHeader } = await jwtVerify(token, await keys(), {
      issuer,
      algorithms: RSA_ALGORITHMS,
      requiredClaims: ['exp'],
      clockTolerance: 0,
    });
    // kid: the header must name the key that signed it.
    if (typeof protectedHeader.kid !== 'string') throw new Error('no kid');
    if (!audienceAccepted(payload, audience)) throw new Error('wrong audience');
    // iat: before now.
    if (typeof payload.iat === 'number' && payload.iat > Math.floor(Date.now() / 1000)) throw new Error('issued in the future');
    return flattenClaims(payload);
  };
}
