// The process-wide pieces every handler shares, made once at start-up (the Lambda init phase):
// settings, the logger and the app secret cache, whose first fetch starts right away.
import { loadSettings } from './config.ts';
import { createLogger } from './log.ts';
import { createAppSecretCache, createSecretsManagerFetcher, fetcherFor, type AppSecret } from './secret.ts';
import { keyFileName, NOT_BEFORE_SKEW_SECONDS, verifyJitsiToken, type TokenExpectations, type Verdict, type VerifyOptions } from './token.ts';

export const settings = loadSettings();
export const logger = createLogger();
for (const warning of settings.warnings) logger.warn(warning);

const cacheOptions = { signing: settings.signing, refreshMs: settings.secretRefreshSeconds * 1000, staleMs: settings.secretStaleSeconds * 1000, logger };
export const appSecret = createAppSecretCache(fetcherFor(settings.secretSource, logger, settings.signing), cacheOptions);
appSecret.prefetch();

/**
 * The AWSPREVIOUS version, fetched only when a token fails with the current secret soon after a
 * rotation. A missing previous version is remembered for a minute, so invalid tokens cannot
 * turn into a Secrets Manager call each.
 */
const previousAppSecret =
  settings.secretSource.kind === 'secrets-manager'
    ? createAppSecretCache(createSecretsManagerFetcher(settings.secretSource.secretId, 'AWSPREVIOUS'), { ...cacheOptions, label: 'the previous Jitsi app secret (AWSPREVIOUS)', negativeCacheMs: 60_000 })
    : undefined;

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** The tenant a request means: the one it names, else JITSI_TENANT (if any). */
export const tenantFor = (requested: string | undefined): string | undefined => requested ?? settings.defaultTenant;

/** The `sub` a request means: its tenant, else JITSI_SUB. */
const subFor = (requested: string | undefined): string => tenantFor(requested) ?? settings.sub;

export function expectationsFor(tenant: string | undefined): TokenExpectations {
  return { appId: settings.appId, audience: settings.audience, sub: subFor(tenant), maxLifetimeSeconds: maxTokenLifetime() };
}

const maxTokenLifetime = (): number => settings.tokenTtlMaxSeconds + NOT_BEFORE_SKEW_SECONDS;

/** The previous version, while tokens signed with it can still be alive (after a rotation). */
async function previousWithinRotationWindow(current: AppSecret): Promise<AppSecret | undefined> {
  if (previousAppSecret === undefined || current.createdAt === undefined) return undefined;
  if (nowSeconds() > current.createdAt + maxTokenLifetime()) return undefined;
  return previousAppSecret.get().catch(() => undefined);
}

/**
 * Verifies a token as one this service issued: with the current secret, and for the longest
 * token lifetime after a rotation also with the previous one (new tokens always use the current).
 */
export async function verifyIssuedToken(token: string, tenant: string | undefined, options: VerifyOptions = {}): Promise<Verdict> {
  const current = await appSecret.get();
  const expectations = expectationsFor(tenant);
  const now = nowSeconds();
  const verdict = verifyJitsiToken(token, [current.verificationKey], expectations, now, options);
  if (verdict.valid || verdict.reason !== 'bad_signature') return verdict;
  const previous = await previousWithinRotationWindow(current);
  return previous ? verifyJitsiToken(token, [previous.verificationKey], expectations, now, options) : verdict;
}

/**
 * RS256 mode: the public key PEM Prosody asks for as `<sha256 hex of kid>.pem`, current or (for
 * the longest token lifetime after a rotation) previous; undefined for anything else.
 */
export async function publicKeyFile(fileName: string): Promise<string | undefined> {
  if (settings.signing !== 'rs256') return undefined;
  const current = await appSecret.get();
  if (current.kid !== undefined && keyFileName(current.kid) === fileName) return current.publicKeyPem;
  const previous = await previousWithinRotationWindow(current);
  return previous?.kid !== undefined && keyFileName(previous.kid) === fileName ? previous.publicKeyPem : undefined;
}
