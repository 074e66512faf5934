// The signing keys in use: the current secret (fetched at start-up, cached), the previous one
// after a rotation, and what they verify and serve. Built once per process from the settings.
import type { Settings } from './config.ts';
import { secretUnavailable, UnavailableError } from './errors.ts';
import { needsConfirming, servedUntilFor } from './public-keys.ts';
import { KidInUseError } from './store/public-keys.ts';
import type { Logger } from './log.ts';
import { createAppSecretCache, type AppSecret, type SecretFetcher } from './secret.ts';
import { maxTokenLifetimeSeconds, verifyJitsiToken, type InvalidReason, type TokenExpectations, type VerifiedToken, type VerifyOptions } from './token.ts';

export interface Clock {
  /** Whole seconds since the epoch. */
  nowSeconds(): number;
}

export const systemClock: Clock = { nowSeconds: () => Math.floor(Date.now() / 1000) };

/** Which version of the secret a token verified with. */
export type SignedWith = 'current' | 'previous';

/** A verdict that also says which secret signed a valid token. */
export type KeyringVerdict = { valid: true; token: VerifiedToken; signedWith: SignedWith } | { valid: false; reason: InvalidReason };

/**
 * Whether a token signed with the previous secret still counts: only for `overlapSeconds` after
 * the current version was created, by Secrets Manager's record of it. Never by the token's iat:
 * whoever holds the old secret can write any iat.
 */
export function withinRotationOverlap(nowSeconds: number, currentCreatedAt: number | undefined, overlapSeconds: number): boolean {
  return currentCreatedAt !== undefined && nowSeconds < currentCreatedAt + overlapSeconds;
}

export interface Keyring {
  /** The secret new tokens are signed with, or the secret-unavailable error. */
  current(): Promise<AppSecret>;
  /** Starts the first fetch (the Lambda init phase); a failure is logged, never thrown. */
  prefetch(): void;
  /**
   * Verifies a token as one this service issued: with the current secret, and for the rotation
   * overlap after a rotation also with the previous one; a valid verdict says which signed it.
   */
  verify(token: string, tenant: string | undefined, options?: VerifyOptions): Promise<KeyringVerdict>;
}

export interface KeyringSources {
  current: SecretFetcher;
  /** The AWSPREVIOUS version (Secrets Manager only). */
  previous?: SecretFetcher | undefined;
  /**
   * RS256 mode: makes a key's public half served (lib/store/public-keys.ts) until `servedUntil`.
   * `current()` answers a key only once it is served at least the longest token lifetime ahead,
   * so no token is signed with a key Prosody cannot fetch; a failure is tried again on the next call.
   */
  publish?: ((secret: AppSecret, servedUntil: number) => Promise<void>) | undefined;
}

type KeyringSettings = Pick<
  Settings,
  | 'signing'
  | 'secretRefreshSeconds'
  | 'secretStaleSeconds'
  | 'secretRotationOverlapSeconds'
  | 'appId'
  | 'audience'
  | 'sub'
  | 'defaultTenant'
  | 'tokenTtlMaxSeconds'
>;

export function createKeyring(settings: KeyringSettings, sources: KeyringSources, logger: Logger, clock: Clock): Keyring {
  const cacheOptions = { signing: settings.signing, refreshMs: settings.secretRefreshSeconds * 1000, staleMs: settings.secretStaleSeconds * 1000, logger };
  const currentSecret = createAppSecretCache(sources.current, cacheOptions);
  // Fetched only when a token fails with the current secret soon after a rotation; a missing
  // previous version is remembered for a minute, so invalid tokens cannot each cost a call.
  const previousSecret = sources.previous
    ? createAppSecretCache(sources.previous, {
        ...cacheOptions,
        label: 'the previous Jitsi app secret (AWSPREVIOUS)',
        negativeCacheMs: 60_000,
        mayNotExist: true,
      })
    : undefined;
  const maxTokenLifetime = maxTokenLifetimeSeconds(settings);

  const expectationsFor = (tenant: string | undefined): TokenExpectations => ({
    appId: settings.appId,
    audience: settings.audience,
    sub: tenant ?? settings.defaultTenant ?? settings.sub,
    maxLifetimeSeconds: maxTokenLifetime,
  });

  /** The previous version, for `windowSeconds` after the current one was created. */
  async function previousWithin(current: AppSecret, windowSeconds: number): Promise<AppSecret | undefined> {
    if (previousSecret === undefined || !withinRotationOverlap(clock.nowSeconds(), current.createdAt, windowSeconds)) return undefined;
    return previousSecret.get().catch(() => undefined);
  }

  /** Per loaded key: until when it is known to be served, and a confirmation under way. */
  const published = new WeakMap<AppSecret, { until: number | undefined; confirming: Promise<void> | undefined; replaced: Promise<void> }>();
  async function currentPublished(): Promise<AppSecret> {
    const secret = await currentSecret.get();
    const publish = sources.publish;
    if (publish === undefined) return secret;
    let state = published.get(secret);
    if (state === undefined) {
      // First use of this key here: the version it replaced keeps being served for the tokens
      // signed with it (a deployment upgraded, or a signer that never saw it current).
      state = { until: undefined, confirming: undefined, replaced: publishReplaced(secret, publish) };
      published.set(secret, state);
    }
    const now = clock.nowSeconds();
    if (needsConfirming(state.until, now, maxTokenLifetime)) {
      const until = servedUntilFor(now, maxTokenLifetime);
      const entry = state;
      entry.confirming ??= publish(secret, until)
        .then(() => {
          entry.until = Math.max(entry.until ?? 0, until);
        })
        .catch((error: unknown) => {
          if (error instanceof KidInUseError) logger.error(`${error.message}: give the new key a new kid`, { kid: error.kid });
          throw error instanceof KidInUseError ? secretUnavailable() : error;
        })
        .finally(() => {
          entry.confirming = undefined;
        });
      await entry.confirming;
    }
    await state.replaced;
    return secret;
  }

  /** The AWSPREVIOUS version, served for the longest token lifetime after the current one was created (if that is still ahead). */
  async function publishReplaced(current: AppSecret, publish: NonNullable<KeyringSources['publish']>): Promise<void> {
    const until = (current.createdAt ?? 0) + maxTokenLifetime;
    if (previousSecret === undefined || until <= clock.nowSeconds()) return;
    const previous = await previousSecret.get().catch(() => undefined);
    if (previous === undefined || previous.kid === current.kid) return;
    await publish(previous, until).catch(() =>
      logger.warn('could not publish the previous public key; tokens signed with it may not verify', { kid: previous.kid }),
    );
  }

  return {
    current: currentPublished,
    prefetch() {
      if (sources.publish === undefined) return currentSecret.prefetch();
      currentPublished().catch((error: unknown) => {
        // The secret's own failures are logged where it is fetched; a failed publication here.
        if (error instanceof UnavailableError && error.dependency === 'store') {
          logger.error('could not publish the public key; the next request tries again', { reason: 'store_unavailable' });
        }
      });
    },
    async verify(token, tenant, options = {}) {
      const current = await currentSecret.get();
      const expectations = expectationsFor(tenant);
      const now = clock.nowSeconds();
      const verdict = verifyJitsiToken(token, [current.verificationKey], expectations, now, options);
      if (verdict.valid) return { ...verdict, signedWith: 'current' };
      if (verdict.reason !== 'bad_signature' || options.currentSecretOnly) return verdict;
      const previous = await previousWithin(current, settings.secretRotationOverlapSeconds);
      if (previous === undefined) return verdict;
      const previousVerdict = verifyJitsiToken(token, [previous.verificationKey], expectations, now, options);
      return previousVerdict.valid ? { ...previousVerdict, signedWith: 'previous' } : previousVerdict;
    },
  };
}
