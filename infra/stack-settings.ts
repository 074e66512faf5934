// What the stack is told through CDK context (-c key=value or cdk.json), validated once.
import type { Node } from 'constructs';
import { ORIGIN_PATTERN } from '#lib/config';

export type CallerAuth = { mode: 'jwt'; issuer: string; audience: string } | { mode: 'none' };

export interface StackSettings {
  auth: CallerAuth;
  corsOrigins: string[];
  /** Function environment, passed through to lib/config (which validates it again at start-up). */
  functionEnvironment: Record<string, string>;
  /** Import this secret instead of generating one: an ARN (complete or partial) or a name. */
  secretArn: string | undefined;
  secretName: string | undefined;
  throttleRateLimit: number;
  throttleBurstLimit: number;
  logRetentionDays: number;
  /** Bundle the AWS SDK into each function (true) or use the runtime's copy (false). */
  bundleAwsSdk: boolean;
  warnings: string[];
}

export class StackSettingsError extends Error {
  override name = 'StackSettingsError';
}

export const AUTH_CONTEXT_HELP =
  'Caller authentication is not configured. Pass either\n' +
  '  -c authIssuer=https://<your OIDC issuer> -c authAudience=<app client id>   (an API Gateway JWT authorizer on every token route; AUTH_MODE=jwt)\n' +
  'or\n' +
  '  -c auth=none   (no caller authentication: anyone who can reach the API can mint tokens; for sam local and trials only)';

const CONTEXT_TO_ENV: Record<string, string> = {
  jitsiDomain: 'JITSI_DOMAIN',
  jitsiAppId: 'JITSI_APP_ID',
  jitsiSub: 'JITSI_SUB',
  jitsiAudience: 'JITSI_AUDIENCE',
  jitsiGroup: 'JITSI_GROUP',
  jitsiTenant: 'JITSI_TENANT',
  jitsiSigning: 'JITSI_SIGNING',
  featuresModerator: 'JITSI_FEATURES_MODERATOR',
  featuresParticipant: 'JITSI_FEATURES_PARTICIPANT',
  refreshGraceSeconds: 'REFRESH_GRACE_SECONDS',
  tokenTtlSeconds: 'TOKEN_TTL_SECONDS',
  tokenTtlMaxSeconds: 'TOKEN_TTL_MAX_SECONDS',
  moderatorClaim: 'MODERATOR_CLAIM',
  moderatorValues: 'MODERATOR_VALUES',
  roomPrefix: 'ROOM_PREFIX',
  appointmentEarlyJoinMinutes: 'APPOINTMENT_EARLY_JOIN_MINUTES',
  appointmentDurationMinutes: 'APPOINTMENT_DURATION_MINUTES',
  appointmentGraceMinutes: 'APPOINTMENT_GRACE_MINUTES',
};

function contextString(node: Node, key: string): string | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value).trim();
  if (Array.isArray(value)) return value.join(',');
  throw new StackSettingsError(`context ${key} must be a string`);
}

function contextInteger(node: Node, key: string, min: number, max: number, fallback: number): number {
  const value = contextString(node, key);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new StackSettingsError(`context ${key} must be a whole number from ${min} to ${max}`);
  }
  return Number(value);
}

/** The retention periods CloudWatch Logs accepts. */
const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

function logRetention(node: Node): number {
  const days = contextInteger(node, 'logRetentionDays', 1, 3_653, 30);
  if (!RETENTION_DAYS.includes(days)) throw new StackSettingsError(`context logRetentionDays must be one of ${RETENTION_DAYS.join(', ')}`);
  return days;
}

export function readStackSettings(node: Node): StackSettings {
  const warnings: string[] = [];
  const authIssuer = contextString(node, 'authIssuer');
  const authAudience = contextString(node, 'authAudience');
  const authNone = contextString(node, 'auth') === 'none';
  let auth: CallerAuth;
  if (authIssuer !== undefined || authAudience !== undefined) {
    if (authNone) throw new StackSettingsError('context auth=none cannot be combined with authIssuer/authAudience; choose one.');
    if (authIssuer === undefined || authAudience === undefined) throw new StackSettingsError(`Both authIssuer and authAudience are needed.\n${AUTH_CONTEXT_HELP}`);
    if (!/^https:\/\/\S+$/.test(authIssuer)) throw new StackSettingsError('context authIssuer must be the https URL of the OIDC issuer (e.g. https://cognito-idp.<region>.amazonaws.com/<pool id>)');
    auth = { mode: 'jwt', issuer: authIssuer, audience: authAudience };
  } else if (authNone) {
    auth = { mode: 'none' };
  } else {
    throw new StackSettingsError(AUTH_CONTEXT_HELP);
  }

  const corsOrigins = (contextString(node, 'corsOrigins') ?? '').split(',').map((origin) => origin.trim()).filter((origin) => origin !== '');
  for (const origin of corsOrigins) {
    if (!ORIGIN_PATTERN.test(origin)) throw new StackSettingsError('context corsOrigins must be a comma-separated list of origins such as https://app.example.com');
  }

  const functionEnvironment: Record<string, string> = { AUTH_MODE: auth.mode };
  for (const [key, variable] of Object.entries(CONTEXT_TO_ENV)) {
    const value = contextString(node, key);
    if (value !== undefined) functionEnvironment[variable] = value;
  }
  if (functionEnvironment.JITSI_DOMAIN === undefined) {
    warnings.push('context jitsiDomain is not set: join URLs will use meet.example.com');
    functionEnvironment.JITSI_DOMAIN = 'meet.example.com';
  }
  if (functionEnvironment.JITSI_APP_ID === undefined) {
    warnings.push('context jitsiAppId is not set: tokens will carry iss "jitsi-token-api", which your Prosody app_id must match');
    functionEnvironment.JITSI_APP_ID = 'jitsi-token-api';
  }
  if (corsOrigins.length > 0) functionEnvironment.CORS_ORIGINS = corsOrigins.join(',');

  return {
    auth,
    corsOrigins,
    functionEnvironment,
    secretArn: contextString(node, 'secretArn'),
    secretName: contextString(node, 'secretName'),
    throttleRateLimit: contextInteger(node, 'throttleRateLimit', 1, 10_000, 50),
    throttleBurstLimit: contextInteger(node, 'throttleBurstLimit', 1, 5_000, 100),
    logRetentionDays: logRetention(node),
    bundleAwsSdk: contextString(node, 'bundleAwsSdk') !== 'false',
    warnings,
  };
}
