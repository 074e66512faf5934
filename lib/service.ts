// The process-wide pieces every handler shares, made once at start-up (the Lambda init phase):
// settings, the logger and the app secret cache, whose first fetch starts right away.
import { loadSettings } from './config.ts';
import { createLogger } from './log.ts';
import { createAppSecretCache, fetcherFor } from './secret.ts';
import { NOT_BEFORE_SKEW_SECONDS, type TokenExpectations } from './token.ts';

export const settings = loadSettings();
export const logger = createLogger();
for (const warning of settings.warnings) logger.warn(warning);

export const appSecret = createAppSecretCache(fetcherFor(settings.secretSource, logger), {
  refreshMs: settings.secretRefreshSeconds * 1000,
  staleMs: settings.secretStaleSeconds * 1000,
  logger,
});
appSecret.prefetch();

export const tokenExpectations: TokenExpectations = {
  appId: settings.appId,
  audience: settings.audience,
  sub: settings.sub,
  maxLifetimeSeconds: settings.tokenTtlMaxSeconds + NOT_BEFORE_SKEW_SECONDS,
};

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
