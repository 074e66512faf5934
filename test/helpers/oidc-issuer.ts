// A loopback OIDC issuer: discovery document and JWKS over real HTTP, signing caller tokens with
// a generated RS256 key, the way Cognito, Auth0 or Firebase would.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';

export interface OidcIssuer {
  issuer: string;
  /** The served JWKS public key, in PEM, for key-confusion attacks. */
  publicKeyPem: string;
  sign(
    claims: JWTPayload,
    options?: {
      expiresIn?: string | number;
      notBefore?: string | number;
      audience?: string | null;
      issuer?: string;
      key?: 'other';
      kid?: string | null;
      issuedAt?: number;
    },
  ): Promise<string>;
  requests: string[];
  close(): Promise<void>;
}

export async function startOidcIssuer(): Promise<OidcIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const other = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' };
  const requests: string[] = [];
  let issuer = '';
  const server = createServer((request, response) => {
    requests.push(request.url ?? '');
    if (request.url === '/.well-known/openid-configuration') {
      response.writeHead(200, { 'content-type': 'application/json' });
      return response.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks.json`, id_token_signing_alg_values_supported: ['RS256'] }));
    }
    if (request.url === '/jwks.json') {
      response.writeHead(200, { 'content-type': 'application/json' });
      return response.end(JSON.stringify({ keys: [jwk] }));
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { createPublicKey } = await import('node:crypto');
  const publicKeyPem = createPublicKey({ key: jwk as never, format: 'jwk' })
    .export({ type: 'spki', format: 'pem' })
    .toString();
  return {
    issuer,
    publicKeyPem,
    requests,
    async sign(claims, options = {}) {
      const kid = options.kid === null ? {} : { kid: options.kid ?? 'test-key-1' };
      const jwt = new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', ...kid, typ: 'JWT' })
        .setIssuedAt(options.issuedAt)
        .setIssuer(options.issuer ?? issuer)
        .setExpirationTime(options.expiresIn ?? '10m');
      // null: no aud claim at all (access tokens that carry client_id instead).
      if (options.audience !== null) jwt.setAudience(options.audience ?? 'test-client');
      if (options.notBefore !== undefined) jwt.setNotBefore(options.notBefore);
      return jwt.sign(options.key === 'other' ? other.privateKey : privateKey);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
