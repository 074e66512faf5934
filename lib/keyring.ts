// The signing keys in use: the current secret (fetched at start-up, cached), the previous one
// after a rotation, and what they verify and serve. Built once per process from the settings.
import type { Settings } from './config.ts';
import type { Logger } from './log.ts';
import { createAppSecretCache, type AppSecret, type SecretFetcher } from './secret.ts';
import {
  keyFileName,
  NOT_BEFORE_SKEW_SECONDS,
  verifyJitsiToken,
  type InvalidReason,
  type TokenExpectations,
  type VerifiedToken,
  type VerifyOptions,
} from './token.ts';

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
    ? createAppSecretCache(sources.previous, { ...cacheOptions, label: 'the previous Jitsi app secret (AWSPREVIOUS)', negativeCacheMs: 60_000 })
    : undefined;
  const maxTokenLifetime = settings.tokenTtlMaxSeconds + NOT_BEFORE_SKEW_SECONDS;

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

  return {
    current: () => currentSecret.get(),
    prefetch: () => currentSecret.prefetch(),
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
    async publicKeyFile(fileName) {
      if (settings.signing !== 'rs256') return undefined;
      const current = await currentSecret.get();
      if (current.kid !== undefined && keyFileName(current.kid) === fileName) return current.publicKeyPem;
      // Served for the longest token lifetime, so Prosody can still check tokens signed before the rotation.
      const previous = await previousWithin(current, maxTokenLifetime);
      return previous?.kid !== undefined && keyFileName(previous.kid) === fileName ? previous.publicKeyPem : undefined;
    },
  };
}
