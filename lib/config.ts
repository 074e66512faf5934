// Settings: read from the environment once, validated, frozen. Nothing else reads process.env.
import { resolve } from 'node:path';
import { SAFE_NAME_PATTERN } from './token.ts';
import { DEFAULT_MODERATOR_FEATURES, DEFAULT_PARTICIPANT_FEATURES, featureSet, JITSI_FEATURES, parseFeatureList, type FeatureSet } from './features.ts';

export type Runtime = 'lambda' | 'sam-local' | 'local';
export type Signing = 'hs256' | 'rs256';
export type AuthMode = 'none' | 'jwt';

export type SecretSource =
  | { kind: 'secrets-manager'; secretId: string }
  | { kind: 'env'; value: string }
  | { kind: 'local-file'; path: string };

export interface Settings {
  runtime: Runtime;
  /** Public hostname of the Jitsi server, used in join URLs. */
  jitsiDomain: string;
  /** Prosody `app_id`: the `iss` claim. */
  appId: string;
  /** The `sub` claim: the XMPP domain (or tenant). */
  sub: string;
  /** The `aud` claim. */
  audience: string;
  /** `context.group`, omitted when unset. */
  group: string | undefined;
  /** Tenant used when a request names none: then it is the `sub` and part of join URLs. */
  defaultTenant: string | undefined;
  /** `context.features` per role. */
  features: { moderator: FeatureSet; participant: FeatureSet };
  /** How long after expiry refresh-token still accepts a token. */
  refreshGraceSeconds: number;
  tokenTtlSeconds: number;
  tokenTtlMaxSeconds: number;
  authMode: AuthMode;
  moderatorClaim: string;
  moderatorValues: readonly string[];
  /** Exact allowed origins, or 'localhost' for any http(s) origin on localhost / loopback. */
  corsOrigins: readonly string[] | 'localhost';
  port: number;
  /** Local server bind address. */
  host: string;
  secretSource: SecretSource;
  /** hs256: Prosody's app_secret signs. rs256 ("ASAP"): a private key signs, Prosody fetches public keys. */
  signing: Signing;
  /** How long a loaded secret is used before it is fetched again. */
  secretRefreshSeconds: number;
  /** How long the last good secret keeps serving while refreshes fail. */
  secretStaleSeconds: number;
  roomPrefix: string;
  appointmentEarlyJoinMinutes: number;
  appointmentDefaultDurationMinutes: number;
  appointmentGraceMinutes: number;
  /** OIDC issuer and audience of callers' tokens (local server in jwt mode). */
  authIssuer: string | undefined;
  authAudience: string | undefined;
  warnings: readonly string[];
}

export class ConfigError extends Error {
  constructor(readonly variable: string, expected: string) {
    super(`Invalid configuration: ${variable} ${expected}`);
    this.name = 'ConfigError';
  }
}

export const DEFAULT_JITSI_DOMAIN = 'meet.example.com';
export const LOCAL_APP_ID = 'local-dev-app';
export const LOCAL_SECRET_FILE = '.jitsi-dev-secret';
export const LOCAL_RS256_KEY_FILE = '.jitsi-dev-rs256-key.json';
export const MIN_TOKEN_TTL_SECONDS = 60;

type Env = Readonly<Record<string, string | undefined>>;

/** Every variable loadSettings reads (besides AWS_SAM_LOCAL and AWS_LAMBDA_FUNCTION_NAME). */
export const SETTING_VARIABLES = [
  'JITSI_DOMAIN', 'JITSI_APP_ID', 'JITSI_SECRET_ARN', 'JITSI_APP_SECRET', 'JITSI_SUB', 'JITSI_AUDIENCE', 'JITSI_GROUP', 'JITSI_TENANT',
  'JITSI_FEATURES_MODERATOR', 'JITSI_FEATURES_PARTICIPANT', 'TOKEN_TTL_SECONDS', 'TOKEN_TTL_MAX_SECONDS', 'REFRESH_GRACE_SECONDS',
  'AUTH_MODE', 'MODERATOR_CLAIM', 'MODERATOR_VALUES', 'AUTH_ISSUER', 'AUTH_AUDIENCE', 'CORS_ORIGINS', 'ROOM_PREFIX',
  'APPOINTMENT_EARLY_JOIN_MINUTES', 'APPOINTMENT_DURATION_MINUTES', 'APPOINTMENT_GRACE_MINUTES',
  'SECRET_REFRESH_SECONDS', 'SECRET_STALE_SECONDS', 'PORT', 'HOST', 'JITSI_SIGNING',
] as const;

const HOSTNAME = /^(?=.{1,253}(?::\d{1,5})?$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::\d{1,5})?$/;
const PLAIN_IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const SUB_VALUE = /^[a-z0-9][a-z0-9._-]{0,252}$/;
const ROOM_PREFIX = /^[a-z0-9][a-z0-9_-]{0,31}$/;
/** A browser origin: scheme and host, optional port, no path, no "*" (the stack checks corsOrigins with it too). */
export const ORIGIN_PATTERN = /^https?:\/\/[a-z0-9.-]+(?::\d{1,5})?$/;
const SECRETS_MANAGER_ID = /^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+|[A-Za-z0-9/_+=.@-]{1,512})$/;

function text(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function matching(env: Env, name: string, pattern: RegExp, expected: string, fallback: string): string {
  const value = text(env, name);
  if (value === undefined) return fallback;
  if (!pattern.test(value)) throw new ConfigError(name, `must be ${expected}`);
  return value;
}

function integer(env: Env, name: string, min: number, max: number, fallback: number): number {
  const value = text(env, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}`);
  }
  return Number(value);
}

function featureList(env: Env, name: string, fallback: readonly (typeof JITSI_FEATURES)[number][]) {
  const value = text(env, name);
  if (value === undefined) return fallback;
  const parsed = parseFeatureList(value);
  if (parsed === undefined) throw new ConfigError(name, `must be "none" or a comma-separated list of: ${JITSI_FEATURES.join(', ')}`);
  return parsed;
}

function list(env: Env, name: string): string[] | undefined {
  const value = text(env, name);
  if (value === undefined) return undefined;
  return value.split(',').map((item) => item.trim()).filter((item) => item !== '');
}

function detectRuntime(env: Env): Runtime {
  if (env.AWS_SAM_LOCAL === 'true') return 'sam-local';
  if (text(env, 'AWS_LAMBDA_FUNCTION_NAME') !== undefined) return 'lambda';
  return 'local';
}

function chooseSecretSource(env: Env, runtime: Runtime, cwd: string, signing: Signing): SecretSource {
  const envSecret = env.JITSI_APP_SECRET;
  const hasEnvSecret = envSecret !== undefined && envSecret !== '';
  const secretId = text(env, 'JITSI_SECRET_ARN');
  if (secretId !== undefined && !SECRETS_MANAGER_ID.test(secretId)) {
    throw new ConfigError('JITSI_SECRET_ARN', 'must be a Secrets Manager secret ARN or name');
  }
  if (runtime === 'lambda') {
    // A deployed function takes its secret from Secrets Manager only: an env secret would sit
    // in plain text in the function configuration.
    if (hasEnvSecret) {
      throw new ConfigError('JITSI_APP_SECRET', 'is not honoured in Lambda; store the secret in Secrets Manager and set JITSI_SECRET_ARN');
    }
    if (secretId === undefined) {
      throw new ConfigError('JITSI_SECRET_ARN', 'is required in Lambda (the Secrets Manager secret holding the Jitsi app_secret)');
    }
    return { kind: 'secrets-manager', secretId };
  }
  if (hasEnvSecret) return { kind: 'env', value: envSecret };
  if (secretId !== undefined) return { kind: 'secrets-manager', secretId };
  return { kind: 'local-file', path: resolve(cwd, signing === 'rs256' ? LOCAL_RS256_KEY_FILE : LOCAL_SECRET_FILE) };
}

function parseCorsOrigins(env: Env, runtime: Runtime): readonly string[] | 'localhost' {
  const origins = list(env, 'CORS_ORIGINS');
  if (origins === undefined) {
    if (runtime === 'lambda') return [];
    return 'localhost';
  }
  for (const origin of origins) {
    if (!ORIGIN_PATTERN.test(origin)) {
      throw new ConfigError('CORS_ORIGINS', 'must be a comma-separated list of origins such as https://app.example.com (scheme and host, optional port, no path, no "*")');
    }
  }
  return Object.freeze(origins);
}

export function loadSettings(env: Env = process.env, cwd: string = process.cwd()): Settings {
  const runtime = detectRuntime(env);
  const warnings: string[] = [];

  const jitsiDomain = matching(env, 'JITSI_DOMAIN', HOSTNAME, 'a lowercase hostname such as meet.example.com (optionally with :port)', DEFAULT_JITSI_DOMAIN);
  if (text(env, 'JITSI_DOMAIN') === undefined) {
    warnings.push(`JITSI_DOMAIN is not set; join URLs use ${DEFAULT_JITSI_DOMAIN}`);
  }

  if (runtime === 'lambda' && text(env, 'JITSI_APP_ID') === undefined) {
    throw new ConfigError('JITSI_APP_ID', 'is required in Lambda (the app_id configured in Prosody)');
  }
  const appId = matching(env, 'JITSI_APP_ID', PLAIN_IDENTIFIER, 'an app id of letters, digits, ".", "_", ":" or "-" (at most 128)', LOCAL_APP_ID);
  const sub = matching(env, 'JITSI_SUB', SUB_VALUE, 'a lowercase XMPP domain or tenant such as meet.jitsi (never "*")', jitsiDomain.replace(/:\d+$/, ''));
  const audience = matching(env, 'JITSI_AUDIENCE', PLAIN_IDENTIFIER, 'an audience of letters, digits, ".", "_", ":" or "-" (at most 128)', appId);
  const groupValue = text(env, 'JITSI_GROUP');
  if (groupValue !== undefined && !PLAIN_IDENTIFIER.test(groupValue)) {
    throw new ConfigError('JITSI_GROUP', 'must be letters, digits, ".", "_", ":" or "-" (at most 128)');
  }

  const defaultTenant = text(env, 'JITSI_TENANT');
  if (defaultTenant !== undefined && !SAFE_NAME_PATTERN.test(defaultTenant)) {
    throw new ConfigError('JITSI_TENANT', 'must follow the room name rules: lowercase letters, digits, "_" or "-" (at most 128)');
  }
  const features = {
    moderator: featureSet(featureList(env, 'JITSI_FEATURES_MODERATOR', DEFAULT_MODERATOR_FEATURES)),
    participant: featureSet(featureList(env, 'JITSI_FEATURES_PARTICIPANT', DEFAULT_PARTICIPANT_FEATURES)),
  };

  const tokenTtlMaxSeconds = integer(env, 'TOKEN_TTL_MAX_SECONDS', MIN_TOKEN_TTL_SECONDS, 7 * 86_400, 86_400);
  const tokenTtlSeconds = integer(env, 'TOKEN_TTL_SECONDS', MIN_TOKEN_TTL_SECONDS, tokenTtlMaxSeconds, Math.min(7_200, tokenTtlMaxSeconds));

  // A deployed function fails closed: without an explicit AUTH_MODE it expects caller tokens.
  const authModeValue = text(env, 'AUTH_MODE') ?? (runtime === 'lambda' ? 'jwt' : 'none');
  if (authModeValue !== 'none' && authModeValue !== 'jwt') throw new ConfigError('AUTH_MODE', 'must be "none" or "jwt"');
  const authMode: AuthMode = authModeValue;
  if (authMode === 'none') {
    warnings.push('AUTH_MODE=none: request bodies are trusted and anyone who can reach the service can mint tokens');
  }

  const moderatorClaim = matching(env, 'MODERATOR_CLAIM', /^[A-Za-z0-9_:./-]{1,128}$/, 'a claim name such as cognito:groups', 'cognito:groups');
  const moderatorValues = list(env, 'MODERATOR_VALUES') ?? ['moderators'];
  if (moderatorValues.length === 0 || moderatorValues.some((value) => !/^[^\s,[\]]{1,128}$/.test(value))) {
    throw new ConfigError('MODERATOR_VALUES', 'must be a comma-separated list of role values without spaces or brackets');
  }

  const authIssuer = text(env, 'AUTH_ISSUER');
  const authAudience = text(env, 'AUTH_AUDIENCE');
  if (authIssuer !== undefined && !/^https?:\/\/\S+$/.test(authIssuer)) {
    throw new ConfigError('AUTH_ISSUER', 'must be the https URL of the OIDC issuer');
  }

  const signingValue = (text(env, 'JITSI_SIGNING') ?? 'hs256').toLowerCase();
  if (signingValue !== 'hs256' && signingValue !== 'rs256') throw new ConfigError('JITSI_SIGNING', 'must be "hs256" (app_secret) or "rs256" (private key, public keys from the keys route)');
  const signing: Signing = signingValue;

  const secretRefreshSeconds = integer(env, 'SECRET_REFRESH_SECONDS', 1, 86_400, 300);

  return Object.freeze({
    runtime,
    jitsiDomain,
    appId,
    sub,
    audience,
    group: groupValue,
    defaultTenant,
    features,
    refreshGraceSeconds: integer(env, 'REFRESH_GRACE_SECONDS', 0, 86_400, 900),
    tokenTtlSeconds,
    tokenTtlMaxSeconds,
    authMode,
    moderatorClaim,
    moderatorValues: Object.freeze(moderatorValues),
    corsOrigins: parseCorsOrigins(env, runtime),
    port: integer(env, 'PORT', 0, 65_535, 3001),
    host: matching(env, 'HOST', /^[0-9a-fA-F:.]{2,45}$|^localhost$/, 'an IP address to bind, e.g. 127.0.0.1 or 0.0.0.0', '127.0.0.1'),
    secretSource: chooseSecretSource(env, runtime, cwd, signing),
    signing,
    secretRefreshSeconds,
    secretStaleSeconds: integer(env, 'SECRET_STALE_SECONDS', 0, 86_400, 3_600),
    roomPrefix: matching(env, 'ROOM_PREFIX', ROOM_PREFIX, 'lowercase letters, digits, "_" or "-" (at most 32)', 'appt'),
    appointmentEarlyJoinMinutes: integer(env, 'APPOINTMENT_EARLY_JOIN_MINUTES', 0, 240, 15),
    appointmentDefaultDurationMinutes: integer(env, 'APPOINTMENT_DURATION_MINUTES', 5, 720, 60),
    appointmentGraceMinutes: integer(env, 'APPOINTMENT_GRACE_MINUTES', 0, 240, 15),
    authIssuer,
    authAudience,
    warnings: Object.freeze(warnings),
  });
}
