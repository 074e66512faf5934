// The process-wide pieces every handler shares, made once at start-up (the Lambda init phase):
// settings, the logger and the app secret cache, whose first fetch starts right away.
import { loadSettings } from './config.ts';
import { createLogger } from './log.ts';
import { createAppSecretCache, createSecretsManagerFetcher, fetcherFor } from './secret.ts';
import { NOT_BEFORE_SKEW_SECONDS, verifyJitsiToken, type TokenExpectations, type Verdict, type VerifyOptions } from './token.ts';

export const settings = loadSettings();
export const logger = createLogger();
for (const warning of settings.warnings) logger.warn(warning);

const cacheOptions = { refreshMs: settings.secretRefreshSeconds * 1000, staleMs: settings.secretStaleSeconds * 1000, logger };
export const appSecret = createAppSecretCache(fetcherFor(settings.secretSource, logger), cacheOptions);
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

/** The `sub` a request means: its tenant, else the default tenant, else JITSI_SUB. */
export const subFor = (tenant: string | undefined): string => tenant ?? settings.defaultTenant ?? settings.sub;

export function expectationsFor(tenant: string | undefined): TokenExpectations {
  return { appId: settings.appId, audience: settings.audience, sub: subFor(tenant), maxLifetimeSeconds: settings.tokenTtlMaxSeconds + NOT_BEFORE_SKEW_SECONDS };
}

/**
 * Verifies a token as one this service issued: with the current secret, and for the longest
 * token lifetime after a rotation also with the previous one (new tokens always use the current).
 */
export async function verifyIssuedToken(token: string, tenant: string | undefined, options: VerifyOptions = {}): Promise<Verdict> {
  const current = await appSecret.get();
  const expectations = expectationsFor(tenant);
  const now = nowSeconds();
  const verdict = verifyJitsiToken(token, [current.signingKey], expectations, now, options);
  if (verdict.valid || verdict.reason !== 'bad_signature' || previousAppSecret === undefined || current.createdAt === undefined) return verdict;
  if (now > current.createdAt + expectations.maxLifetimeSeconds) return verdict;
  const previous = await previousAppSecret.get().catch(() => undefined);
  return previous ? verifyJitsiToken(token, [previous.signingKey], expectations, now, options) : verdict;
}
