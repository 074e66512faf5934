// The signing keys in use: the current secret (fetched at start-up, cached), the previous one
// after a rotation, and what they verify and serve. Built once per process from the settings.
import type { Settings } from './config.ts';
import type { Logger } from './log.ts';
import { createAppSecretCache, type AppSecret, type SecretFetcher } from './secret.ts';
import { keyFileName, NOT_BEFORE_SKEW_SECONDS, verifyJitsiToken, type TokenExpectations, type Verdict, type VerifyOptions } from './token.ts';

export interface Clock {
  /** Whole seconds since the epoch. */
  nowSeconds(): number;
}

export const systemClock: Clock = { nowSeconds: () => Math.floor(Date.now() / 1000) };

export interface Keyring {
  /** The secret new tokens are signed with, or the secret-unavailable error. */
  current(): Promise<AppSecret>;
  /** Starts the first fetch (the Lambda init phase); a failure is logged, never thrown. */
  prefetch(): void;
  /**
   * Verifies a token as one this service issued: with the current secret, and for the longest
   * token lifetime after a rotation also with the previous one.
   */
  verify(token: string, tenant: string | undefined, options?: VerifyOptions): Promise<Verdict>;
  /** RS256 mode: the PEM Prosody asks for as `<sha256 hex of kid>.pem`, current or previous. */
  publicKeyFile(fileName: string): Promise<string | undefined>;
}

export interface KeyringSources {
  current: SecretFetcher;
  /** The AWSPREVIOUS version (Secrets Manager only). */
  previous?: SecretFetcher | undefined;
}

type KeyringSettings = Pick<
  Settings,
  'signing' | 'secretRefreshSeconds' | 'secretStaleSeconds' | 'appId' | 'audience' | 'sub' | 'defaultTenant' | 'tokenTtlMaxSeconds'
>;

export function createKeyring(settings: KeyringSettings, sources: KeyringSources, logger: Logger, clock: Clock): Keyring {
  const cacheOptions = { signing: settings.signing, refreshMs: settings.secretRefreshSeconds * 1000, staleMs: settings.secretStaleSeconds * 1000, logger };
  const currentSecret = createAppSecretCache(sources.current, cacheOptions);
  // Fetched only when a token fails with the current secret soon after a rotation; a missing
  // previous version is remembered for a minute, so invalid tokens cannot each cost a call.
  const previousSecret = sources.previous
    ? createAppSecretCache(sources.previous, { ...cacheOptions, label: 'the previous Jitsi app secret (AWSPREVIOUS)', negativeCacheMs: 60_000 })
    : undefined;
  const maxTokenLifetime = settings.tokenTtlMaxSeconds + NOT_BEFORE_SKEW_SECONDS;

  const expectationsFor = (tenant: string | undefined): TokenExpectations => ({
    appId: settings.appId,
    audience: settings.audience,
    sub: tenant ?? settings.defaultTenant ?? settings.sub,
    maxLifetimeSeconds: maxTokenLifetime,
  });

  /** The previous version, while tokens signed with it can still be alive. */
  async function previousWithinRotationWindow(current: AppSecret): Promise<AppSecret | undefined> {
    if (previousSecret === undefined || current.createdAt === undefined) return undefined;
    if (clock.nowSeconds() > current.createdAt + maxTokenLifetime) return undefined;
    return previousSecret.get().catch(() => undefined);
  }

  return {
    current: () => currentSecret.get(),
    prefetch: () => currentSecret.prefetch(),
    async verify(token, tenant, options = {}) {
      const current = await currentSecret.get();
      const expectations = expectationsFor(tenant);
      const now = clock.nowSeconds();
      const verdict = verifyJitsiToken(token, [current.verificationKey], expectations, now, options);
      if (verdict.valid || verdict.reason !== 'bad_signature' || options.currentSecretOnly) return verdict;
      const previous = await previousWithinRotationWindow(current);
      return previous ? verifyJitsiToken(token, [previous.verificationKey], expectations, now, options) : verdict;
    },
    async publicKeyFile(fileName) {
      if (settings.signing !== 'rs256') return undefined;
      const current = await currentSecret.get();
      if (current.kid !== undefined && keyFileName(current.kid) === fileName) return current.publicKeyPem;
      const previous = await previousWithinRotationWindow(current);
      return previous?.kid !== undefined && keyFileName(previous.kid) === fileName ? previous.publicKeyPem : undefined;
    },
  };
}
