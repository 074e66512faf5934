// The Jitsi app secret: where it comes from, how long it is trusted, and what happens when its
// source fails. Callers get either a usable secret or a 503 problem, within ~2 s, never a crash.
import { createPrivateKey, createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { SecretSource, Signing } from './config.ts';
import { deadlineSignal } from './deadline.ts';
import type { Logger } from './log.ts';
import { secretUnavailable } from './errors.ts';
import { createSigningKey, MIN_SECRET_BYTES, type VerificationKey } from './token.ts';

export interface AppSecret {
  /** The app secret (HS256) or the private key (RS256). */
  signingKey: KeyObject;
  /** RS256 only: the key id Prosody looks the public key up by. */
  kid: string | undefined;
  verificationKey: VerificationKey;
  /** RS256 only: what the keys route serves. */
  publicKeyPem: string | undefined;
  /** When this version was created in Secrets Manager (seconds), if the source knows. */
  createdAt: number | undefined;
}

export interface FetchedSecret {
  value: string;
  createdAt?: number | undefined;
}

/**
 * Fetches the raw SecretString; rejects on any failure. The signal ends a hung fetch. `prepare`
 * loads what the fetch runs on (the SDK client): CPU-bound work that the fetch deadline must not
 * count, since a throttled CPU (Lambda's share of a vCPU) can make it slow.
 */
export type SecretFetcher = ((signal: AbortSignal) => Promise<FetchedSecret>) & { prepare?: () => Promise<void> };

export class SecretFetchError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'SecretFetchError';
  }
}

// Connect and request timeouts and two attempts keep a hung Secrets Manager well under the 2 s
// budget; the overall deadline below is the backstop.
const SDK_CONNECTION_TIMEOUT_MS = 400;
const SDK_REQUEST_TIMEOUT_MS = 600;
const SDK_MAX_ATTEMPTS = 2;
export const FETCH_DEADLINE_MS = 1_500;
/** A secret whose value is unusable (too short, malformed) is not fetched again for this long. */
export const BROKEN_SECRET_BACKOFF_MS = 60_000;
/** After a failed refresh, serve the cached secret this long before asking again. */
const FAILURE_BACKOFF_MS = 10_000;

/**
 * What an AWS SDK client may be told besides our timeouts; by default the SDK reads its own
 * environment (region, credentials, AWS_ENDPOINT_URL_*). Tests pass a loopback endpoint here.
 */
export interface AwsClientConfig {
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export function createSecretsManagerFetcher(secretId: string, versionStage = 'AWSCURRENT', clientConfig: AwsClientConfig = {}): SecretFetcher {
  const region = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):/.exec(secretId)?.[1];
  // Loaded on first use, so the local server and tests with an env secret never pay for the SDK.
  const client = import('@aws-sdk/client-secrets-manager').then((sdk) => ({
    sdk,
    client: new sdk.SecretsManagerClient({
      ...(region ? { region } : {}),
      ...clientConfig,
      maxAttempts: SDK_MAX_ATTEMPTS,
      requestHandler: { connectionTimeout: SDK_CONNECTION_TIMEOUT_MS, requestTimeout: SDK_REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true },
    }),
  }));
  const fetcher: SecretFetcher = async (signal) => {
    const { sdk, client: secretsManager } = await client;
    const output = await secretsManager.send(new sdk.GetSecretValueCommand({ SecretId: secretId, VersionStage: versionStage }), { abortSignal: signal });
    if (typeof output.SecretString !== 'string') throw new SecretFetchError('secret_not_a_string');
    return { value: output.SecretString, createdAt: output.CreatedDate ? Math.floor(output.CreatedDate.getTime() / 1000) : undefined };
  };
  fetcher.prepare = () => client.then(() => undefined);
  return fetcher;
}

export function createEnvFetcher(value: string): SecretFetcher {
  return async () => ({ value });
}

/** The secrets a settings source names; the local server adds its generated file (infra/local). */
export function fetcherFor(source: SecretSource, clientConfig?: AwsClientConfig): SecretFetcher {
  switch (source.kind) {
    case 'secrets-manager':
      return createSecretsManagerFetcher(source.secretId, 'AWSCURRENT', clientConfig);
    case 'env':
      return createEnvFetcher(source.value);
    case 'none':
      return async () => {
        throw new SecretFetchError('no_secret_configured');
      };
  }
}

/** SecretString is Prosody's app_secret as is, or JSON `{"appSecret": "…"}`. */
export function parseSecretString(secretString: string): string {
  if (!secretString.trimStart().startsWith('{')) return secretString;
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    throw new SecretFetchError('secret_json_malformed');
  }
  const appSecret = (parsed as { appSecret?: unknown } | null)?.appSecret;
  if (typeof appSecret !== 'string') throw new SecretFetchError('secret_json_without_appSecret');
  return appSecret;
}

function hs256Secret(appSecret: string, createdAt: number | undefined): AppSecret {
  if (Buffer.byteLength(appSecret, 'utf8') < MIN_SECRET_BYTES) throw new SecretFetchError('secret_too_short');
  const signingKey = createSigningKey(appSecret);
  return { signingKey, kid: undefined, verificationKey: signingKey, publicKeyPem: undefined, createdAt };
}

export const KID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
export const MIN_RSA_BITS = 2048;

/** RS256 ("ASAP"): SecretString is JSON {"privateKey": "<PKCS#8 or PKCS#1 PEM>", "kid": "…"}. */
function rs256Secret(secretString: string, createdAt: number | undefined): AppSecret {
  let parsed: { privateKey?: unknown; kid?: unknown };
  try {
    parsed = JSON.parse(secretString) as typeof parsed;
  } catch {
    throw new SecretFetchError('secret_json_malformed');
  }
  if (typeof parsed?.privateKey !== 'string' || typeof parsed.kid !== 'string' || !KID_PATTERN.test(parsed.kid)) {
    throw new SecretFetchError('rs256_secret_needs_privateKey_and_kid');
  }
  let signingKey: KeyObject;
  try {
    signingKey = createPrivateKey(parsed.privateKey);
  } catch {
    throw new SecretFetchError('rs256_private_key_unreadable');
  }
  if (signingKey.asymmetricKeyType !== 'rsa' || (signingKey.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) {
    throw new SecretFetchError('rs256_key_not_rsa_2048');
  }
  const publicKey = createPublicKey(signingKey);
  return {
    signingKey,
    kid: parsed.kid,
    verificationKey: { key: publicKey, kid: parsed.kid },
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    createdAt,
  };
}

export interface SecretCacheOptions {
  refreshMs: number;
  staleMs: number;
  logger: Logger;
  now?: () => number;
  deadlineMs?: number;
  /** Names the secret in log lines. */
  label?: string;
  /** With no secret cached, answer failures from memory this long instead of asking again. */
  negativeCacheMs?: number;
  /** A version that may not exist (AWSPREVIOUS before any rotation): its absence is an info line, not an error. */
  mayNotExist?: boolean;
}

export interface AppSecretCacheOptions extends SecretCacheOptions {
  /** What the secret holds: Prosody's app_secret (hs256) or {"privateKey", "kid"} JSON (rs256). */
  signing?: Signing;
}

export interface SecretCache<T> {
  /** A usable secret, or throws the 503 problem. */
  get(): Promise<T>;
  /** Starts the first fetch during start-up; a failure is logged, never thrown. */
  prefetch(): void;
}

export type AppSecretCache = SecretCache<AppSecret>;

interface CachedSecret<T> {
  value: T;
  raw: string;
  fetchedAt: number;
}

/** The app secret (or RS256 key) as signing and verification keys: one KeyObject per secret value. */
export function createAppSecretCache(fetcher: SecretFetcher, options: AppSecretCacheOptions): AppSecretCache {
  return createSecretCache(fetcher, options, (value, createdAt) =>
    options.signing === 'rs256' ? rs256Secret(value, createdAt) : hs256Secret(parseSecretString(value), createdAt),
  );
}

/**
 * A secret from its source, parsed once per value, refreshed, served stale for a bounded window
 * while its source fails, fetched one at a time within a deadline; failures become the 503.
 */
export function createSecretCache<T>(
  fetcher: SecretFetcher,
  options: SecretCacheOptions,
  parse: (value: string, createdAt: number | undefined) => T,
): SecretCache<T> {
  const now = options.now ?? Date.now;
  const deadlineMs = options.deadlineMs ?? FETCH_DEADLINE_MS;
  let cached: CachedSecret<T> | undefined;
  let lastFailureAt = -Infinity;
  let brokenUntil = -Infinity;
  let inFlight: Promise<T> | undefined;

  async function fetchWithDeadline(): Promise<FetchedSecret> {
    // The deadline is the network call's: loading the client first is CPU work, however slow.
    await fetcher.prepare?.();
    // Counted in responsive time (lib/deadline.ts): a throttled CPU does not make it run out. The
    // race ends a fetcher that ignores the signal.
    const { signal, done } = deadlineSignal(deadlineMs);
    const deadline = new Promise<never>((_, reject) => {
      signal.addEventListener('abort', () => reject(new SecretFetchError('deadline_exceeded')), { once: true });
    });
    try {
      return await Promise.race([fetcher(signal), deadline]);
    } finally {
      done();
    }
  }

  async function refresh(): Promise<T> {
    try {
      const fetched = await fetchWithDeadline();
      if (cached?.raw === fetched.value) {
        cached = { ...cached, fetchedAt: now() };
        return cached.value;
      }
      try {
        cached = { value: parse(fetched.value, fetched.createdAt), raw: fetched.value, fetchedAt: now() };
      } catch (error) {
        // A value that cannot be used is a misconfiguration, not a blip: remember it for a while
        // so it costs one fetch and one error line per period, not one per request.
        brokenUntil = now() + BROKEN_SECRET_BACKOFF_MS;
        throw error;
      }
      return cached.value;
    } catch (error) {
      lastFailureAt = now();
      const reason = error instanceof SecretFetchError ? error.reason : error instanceof Error ? error.name : 'unknown';
      const label = options.label ?? 'the Jitsi app secret';
      const log = options.mayNotExist && reason === 'ResourceNotFoundException' ? options.logger.info : options.logger.error;
      log(reason === 'secret_too_short' ? `${label} is shorter than ${MIN_SECRET_BYTES} bytes; refusing to sign with it` : `could not load ${label}`, {
        reason,
        servingCachedSecret: usable(cached),
      });
      throw error;
    }
  }

  function usable(entry: CachedSecret<T> | undefined): entry is CachedSecret<T> {
    return entry !== undefined && now() - entry.fetchedAt < options.refreshMs + options.staleMs;
  }

  function singleFlight(): Promise<T> {
    inFlight ??= refresh().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  return {
    async get() {
      if (cached && now() - cached.fetchedAt < options.refreshMs) return cached.value;
      // A refresh just failed: keep serving the last good secret instead of hammering the source.
      if (usable(cached) && now() - lastFailureAt < FAILURE_BACKOFF_MS) return cached.value;
      if (!cached && options.negativeCacheMs !== undefined && now() - lastFailureAt < options.negativeCacheMs) throw secretUnavailable();
      if (!usable(cached) && now() < brokenUntil) throw secretUnavailable();
      try {
        return await singleFlight();
      } catch {
        if (usable(cached)) return cached.value;
        throw secretUnavailable();
      }
    },
    prefetch() {
      singleFlight().catch(() => {
        /* logged in refresh; a request will try again */
      });
    },
  };
}

/** A bearer key a caller presents (Prosody's reservation key): the SecretString, at least 32 bytes. */
export function parseApiKey(value: string): Buffer {
  const key = Buffer.from(value.trim(), 'utf8');
  if (key.length < MIN_SECRET_BYTES) throw new SecretFetchError('secret_too_short');
  return key;
}
