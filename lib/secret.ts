// The Jitsi app secret: where it comes from, how long it is trusted, and what happens when its
// source fails. Callers get either a usable secret or a 503 problem, within ~2 s, never a crash.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import type { KeyObject } from 'node:crypto';
import type { SecretSource } from './config.ts';
import type { Logger } from './log.ts';
import { secretUnavailable } from './problem.ts';
import { deriveRoomKey } from './room.ts';
import { createSigningKey, MIN_SECRET_BYTES } from './token.ts';

export interface AppSecret {
  signingKey: KeyObject;
  roomKey: Buffer;
  /** When this version was created in Secrets Manager (seconds), if the source knows. */
  createdAt: number | undefined;
}

export interface FetchedSecret {
  value: string;
  createdAt?: number | undefined;
}

/** Fetches the raw SecretString; rejects on any failure. The signal ends a hung fetch. */
export type SecretFetcher = (signal: AbortSignal) => Promise<FetchedSecret>;

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
/** After a failed refresh, serve the cached secret this long before asking again. */
const FAILURE_BACKOFF_MS = 10_000;

export function createSecretsManagerFetcher(secretId: string, versionStage = 'AWSCURRENT'): SecretFetcher {
  const region = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):/.exec(secretId)?.[1];
  // Loaded on first use, so the local server and tests with an env secret never pay for the SDK.
  const client = import('@aws-sdk/client-secrets-manager').then((sdk) => ({
    sdk,
    client: new sdk.SecretsManagerClient({
      ...(region ? { region } : {}),
      maxAttempts: SDK_MAX_ATTEMPTS,
      requestHandler: { connectionTimeout: SDK_CONNECTION_TIMEOUT_MS, requestTimeout: SDK_REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true },
    }),
  }));
  return async (signal) => {
    const { sdk, client: secretsManager } = await client;
    const output = await secretsManager.send(new sdk.GetSecretValueCommand({ SecretId: secretId, VersionStage: versionStage }), { abortSignal: signal });
    if (typeof output.SecretString !== 'string') throw new SecretFetchError('secret_not_a_string');
    return { value: output.SecretString, createdAt: output.CreatedDate ? Math.floor(output.CreatedDate.getTime() / 1000) : undefined };
  };
}

export function createEnvFetcher(value: string): SecretFetcher {
  return async () => ({ value });
}

/** `npm start` with no configuration: a random secret made once and kept in an untracked file. */
export function createLocalFileFetcher(path: string, logger: Logger): SecretFetcher {
  return async () => ({ value: await readOrCreate() });
  async function readOrCreate(): Promise<string> {
    try {
      return (await readFile(path, 'utf8')).trim();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const secret = randomBytes(48).toString('base64url');
    try {
      await writeFile(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
      logger.warn('generated a local development app secret; set JITSI_APP_SECRET to use your Jitsi server\'s app_secret', { file: path });
      return secret;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return (await readFile(path, 'utf8')).trim();
      throw error;
    }
  }
}

export function fetcherFor(source: SecretSource, logger: Logger): SecretFetcher {
  switch (source.kind) {
    case 'secrets-manager':
      return createSecretsManagerFetcher(source.secretId);
    case 'env':
      return createEnvFetcher(source.value);
    case 'local-file':
      return createLocalFileFetcher(source.path, logger);
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

export interface AppSecretCacheOptions {
  refreshMs: number;
  staleMs: number;
  logger: Logger;
  now?: () => number;
  deadlineMs?: number;
  /** Names the secret in log lines. */
  label?: string;
  /** With no secret cached, answer failures from memory this long instead of asking again. */
  negativeCacheMs?: number;
}

export interface AppSecretCache {
  /** A usable secret, or throws the 503 problem. */
  get(): Promise<AppSecret>;
  /** Starts the first fetch during start-up; a failure is logged, never thrown. */
  prefetch(): void;
}

interface CachedSecret {
  value: AppSecret;
  raw: string;
  fetchedAt: number;
}

export function createAppSecretCache(fetcher: SecretFetcher, options: AppSecretCacheOptions): AppSecretCache {
  const now = options.now ?? Date.now;
  const deadlineMs = options.deadlineMs ?? FETCH_DEADLINE_MS;
  let cached: CachedSecret | undefined;
  let lastFailureAt = -Infinity;
  let inFlight: Promise<AppSecret> | undefined;

  async function fetchWithDeadline(): Promise<FetchedSecret> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new SecretFetchError('deadline_exceeded'));
      }, deadlineMs);
    });
    try {
      return await Promise.race([fetcher(controller.signal), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function refresh(): Promise<AppSecret> {
    try {
      const fetched = await fetchWithDeadline();
      const raw = parseSecretString(fetched.value);
      if (cached?.raw === raw) {
        cached = { ...cached, fetchedAt: now() };
        return cached.value;
      }
      if (Buffer.byteLength(raw, 'utf8') < MIN_SECRET_BYTES) throw new SecretFetchError('secret_too_short');
      // One KeyObject per secret value (see lib/token).
      cached = { value: { signingKey: createSigningKey(raw), roomKey: deriveRoomKey(raw), createdAt: fetched.createdAt }, raw, fetchedAt: now() };
      return cached.value;
    } catch (error) {
      lastFailureAt = now();
      const reason = error instanceof SecretFetchError ? error.reason : error instanceof Error ? error.name : 'unknown';
      const label = options.label ?? 'the Jitsi app secret';
      options.logger.error(
        reason === 'secret_too_short' ? `${label} is shorter than ${MIN_SECRET_BYTES} bytes; refusing to sign with it` : `could not load ${label}`,
        { reason, servingCachedSecret: usable(cached) },
      );
      throw error;
    }
  }

  function usable(entry: CachedSecret | undefined): entry is CachedSecret {
    return entry !== undefined && now() - entry.fetchedAt < options.refreshMs + options.staleMs;
  }

  function singleFlight(): Promise<AppSecret> {
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
