// What the stack is told through CDK context (-c key=value or cdk.json), validated once.
import type { Node } from 'constructs';
import { ConfigError, DEFAULT_JITSI_DOMAIN, loadSettings, SETTING_ROWS, SETTINGS, wholeNumber } from '#lib/config';

/** The `iss` a deployment uses when no app id is given (synth warns). */
const DEPLOYED_APP_ID = 'jitsi-token-api';

export type CallerAuth = { mode: 'jwt'; issuer: string; audience: string } | { mode: 'none' };

export interface StackSettings {
  auth: CallerAuth;
  corsOrigins: string[];
  /** Function environment, passed through to lib/config (which validates it again at start-up). */
  functionEnvironment: Record<string, string>;
  /** Import this secret instead of generating one: an ARN (complete or partial) or a name. */
  secretArn: string | undefined;
  secretName: string | undefined;
  /** The customer-managed KMS key an imported secret is encrypted with (kms:Decrypt for the functions). */
  secretKmsKeyArn: string | undefined;
  throttleRateLimit: number;
  throttleBurstLimit: number;
  logRetentionDays: number;
  /** Bundle the AWS SDK into each function (true) or use the runtime's copy (false). */
  bundleAwsSdk: boolean;
  /** X-Ray active tracing on the functions (-c tracing=on). */
  tracing: boolean;
  /** A scheduled ping that keeps one environment of each function warm (on by default: it costs cents; -c keepWarm=off). */
  keepWarm: boolean;
  /** Tags on every resource (-c tags=team=video,env=prod). */
  tags: Record<string, string>;
  /** A custom domain for the API (-c domainName=… -c certificateArn=…, a regional ACM certificate). */
  customDomain: { domainName: string; certificateArn: string } | undefined;
  /** Who the alarm topic e-mails (-c alarmEmail=…), if anyone. */
  alarmEmail: string | undefined;
  /** The platform's webhook endpoint (-c webhookUrl=https://…): an EventBridge API destination delivers the bus's events there, signed. */
  webhookUrl: string | undefined;
  warnings: string[];
}

export class StackSettingsError extends Error {
  override name = 'StackSettingsError';
}

export const AUTH_CONTEXT_HELP =
  'Caller authentication is not configured. Pass either\n' +
  '  -c authIssuer=https://<your OIDC issuer> -c authAudience=<app client id>   (an API Gateway JWT authorizer on every caller route; ' +
  `${SETTINGS.authMode.variable}=jwt)\n` +
  'or\n' +
  '  -c auth=none   (no caller authentication: anyone who can reach the API can mint tokens; for sam local and trials only)';

export const RS256_SECRET_HELP =
  'RS256 signing needs a secret holding {"kid": "…", "privateKey": "<PKCS#8 PEM>"}, which the stack cannot generate.\n' +
  'Create it first (README: RS256 mode), then pass -c secretArn=<its ARN> (or -c secretName=<its name>) with -c jitsiSigning=rs256.';

function contextString(node: Node, key: string): string | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value).trim();
  if (Array.isArray(value)) return value.join(',');
  throw new StackSettingsError(`context ${key} must be a string`);
}

function contextInteger(node: Node, key: string, min: number, max: number, fallback: number): number {
  return wholeNumber(contextString(node, key), key, min, max, fallback, (expected) => new StackSettingsError(`context ${key} ${expected}`));
}

/** A stand-in secret ARN for checking the function settings at synth (the stack sets the real one). */
const SYNTH_CHECK_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:synth-check-AbCdEf';

/**
 * The function settings from the context keys of the settings table, checked at synth with the
 * same parsers the functions use, so a bad value stops `cdk synth` instead of every cold start.
 */
function functionSettingsFrom(node: Node, authMode: 'jwt' | 'none'): Record<string, string> {
  const environment: Record<string, string> = { [SETTINGS.authMode.variable]: authMode };
  const contextOfVariable = new Map<string, string>();
  for (const [, definition] of SETTING_ROWS) {
    if (definition.context === undefined) continue;
    const value = contextString(node, definition.context);
    contextOfVariable.set(definition.variable, definition.context);
    if (value !== undefined) environment[definition.variable] = value;
  }
  try {
    loadSettings({
      ...environment,
      [SETTINGS.secretArn.variable]: SYNTH_CHECK_SECRET_ARN,
      [SETTINGS.appointmentsTable.variable]: 'synth-check',
      AWS_LAMBDA_FUNCTION_NAME: 'synth-check',
      [SETTINGS.appId.variable]: environment[SETTINGS.appId.variable] ?? 'synth-check',
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const key = contextOfVariable.get(error.variable);
    throw new StackSettingsError(key === undefined ? error.message : `context ${key}: ${error.message}`);
  }
  return environment;
}

/** The retention periods CloudWatch Logs accepts. */
const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

function logRetention(node: Node): number {
  const days = contextInteger(node, 'logRetentionDays', 1, 3_653, 30);
  if (!RETENTION_DAYS.includes(days)) throw new StackSettingsError(`context logRetentionDays must be one of ${RETENTION_DAYS.join(', ')}`);
  return days;
}

function tagsFrom(value: string | undefined): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const pair of (value ?? '').split(',').filter((item) => item.trim() !== '')) {
    const [key, tagValue] = pair.split('=').map((part) => part.trim());
    if (!key || tagValue === undefined || !/^[\w .:/=+@-]{1,128}$/.test(key) || !/^[\w .:/=+@-]{0,256}$/.test(tagValue)) {
      throw new StackSettingsError('context tags must be key=value pairs separated by commas, e.g. team=video,env=prod');
    }
    tags[key] = tagValue;
  }
  return tags;
}

function customDomainFrom(node: Node): StackSettings['customDomain'] {
  const domainName = contextString(node, 'domainName');
  const certificateArn = contextString(node, 'certificateArn');
  if (domainName === undefined && certificateArn === undefined) return undefined;
  if (domainName === undefined || certificateArn === undefined)
    throw new StackSettingsError('context domainName and certificateArn go together (a regional ACM certificate for the name)');
  if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/.test(domainName))
    throw new StackSettingsError('context domainName must be a host name such as api.example.com');
  if (!/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/.test(certificateArn))
    throw new StackSettingsError('context certificateArn must be the ARN of an ACM certificate');
  return { domainName, certificateArn };
}

function webhookUrlFrom(value: string | undefined): string | undefined {
  // API destinations call HTTPS endpoints only.
  if (value !== undefined && !/^https:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?(?:\/\S*)?$/.test(value))
    throw new StackSettingsError('context webhookUrl must be an https URL');
  return value;
}

function alarmEmailFrom(value: string | undefined): string | undefined {
  if (value !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) throw new StackSettingsError('context alarmEmail must be an e-mail address');
  return value;
}

/** The stack's own context keys (the functions' settings add theirs: SETTINGS rows with a `context`). */
const STACK_CONTEXT_KEYS = [
  'alarmEmail',
  'auth',
  'authAudience',
  'authIssuer',
  'bundleAwsSdk',
  'certificateArn',
  'domainName',
  'keepWarm',
  'logRetentionDays',
  'secretArn',
  'secretKmsKeyArn',
  'secretName',
  'tags',
  'throttleBurstLimit',
  'throttleRateLimit',
  'tracing',
  'webhookUrl',
] as const;

/** Every context key the stack reads; anything else given with -c is a typo, refused with the list. */
export function knownContextKeys(): string[] {
  const settingKeys = Object.values(SETTINGS).flatMap((row) => ('context' in row && typeof row.context === 'string' ? [row.context] : []));
  return [...new Set([...STACK_CONTEXT_KEYS, ...settingKeys])].sort();
}

function refuseUnknownContext(node: Node): void {
  const known = new Set(knownContextKeys());
  // CDK's own keys (aws:cdk:…, @aws-cdk/… feature flags, cli-telemetry and the like) are not ours to judge: ours are camelCase.
  const given = Object.keys(node.getAllContext()).filter((key) => /^[a-z][A-Za-z0-9]*$/.test(key));
  const unknown = given.filter((key) => !known.has(key));
  if (unknown.length > 0) {
    throw new StackSettingsError(`unknown context ${unknown.map((key) => `-c ${key}`).join(', ')}; the stack reads: ${[...known].join(', ')}`);
  }
}

export function readStackSettings(node: Node): StackSettings {
  refuseUnknownContext(node);
  const warnings: string[] = [];
  const authIssuer = contextString(node, 'authIssuer');
  const authAudience = contextString(node, 'authAudience');
  const authNone = contextString(node, 'auth') === 'none';
  let auth: CallerAuth;
  if (authIssuer !== undefined || authAudience !== undefined) {
    if (authNone) throw new StackSettingsError('context auth=none cannot be combined with authIssuer/authAudience; choose one.');
    if (authIssuer === undefined || authAudience === undefined)
      throw new StackSettingsError(`Both authIssuer and authAudience are needed.\n${AUTH_CONTEXT_HELP}`);
    if (!/^https:\/\/\S+$/.test(authIssuer))
      throw new StackSettingsError('context authIssuer must be the https URL of the OIDC issuer (e.g. https://cognito-idp.<region>.amazonaws.com/<pool id>)');
    auth = { mode: 'jwt', issuer: authIssuer, audience: authAudience };
  } else if (authNone) {
    auth = { mode: 'none' };
  } else {
    throw new StackSettingsError(AUTH_CONTEXT_HELP);
  }

  const functionEnvironment = functionSettingsFrom(node, auth.mode);
  const secretArn = contextString(node, 'secretArn');
  const secretName = contextString(node, 'secretName');
  // RS256 signs with a private key the stack cannot make (CloudFormation only generates random
  // strings): the operator creates the key secret and names it.
  if (functionEnvironment[SETTINGS.signing.variable]?.toLowerCase() === 'rs256' && secretArn === undefined && secretName === undefined) {
    throw new StackSettingsError(RS256_SECRET_HELP);
  }
  const secretKmsKeyArn = contextString(node, 'secretKmsKeyArn');
  if (secretKmsKeyArn !== undefined && !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(secretKmsKeyArn)) {
    throw new StackSettingsError('context secretKmsKeyArn must be the ARN of a KMS key (arn:aws:kms:<region>:<account>:key/<id>)');
  }
  if (secretKmsKeyArn !== undefined && secretArn === undefined && secretName === undefined) {
    throw new StackSettingsError(
      'context secretKmsKeyArn goes with an imported secret (secretArn or secretName): the secret the stack generates uses the AWS managed key',
    );
  }
  const { jitsiDomain, appId, corsOrigins: cors } = SETTINGS;
  if (functionEnvironment[jitsiDomain.variable] === undefined) {
    warnings.push(`context ${jitsiDomain.context} is not set: join URLs will use ${DEFAULT_JITSI_DOMAIN}`);
    functionEnvironment[jitsiDomain.variable] = DEFAULT_JITSI_DOMAIN;
  }
  if (functionEnvironment[appId.variable] === undefined) {
    warnings.push(`context ${appId.context} is not set: tokens will carry iss "${DEPLOYED_APP_ID}", which your Prosody app_id must match`);
    functionEnvironment[appId.variable] = DEPLOYED_APP_ID;
  }
  const corsValue = functionEnvironment[cors.variable];
  const corsOrigins =
    corsValue === undefined ? [] : [...(cors.parse(corsValue, { runtime: 'lambda', earlier: {}, warn: () => {} }, cors.variable) as readonly string[])];
  if (corsOrigins.length > 0) functionEnvironment[cors.variable] = corsOrigins.join(',');

  return {
    auth,
    corsOrigins,
    functionEnvironment,
    secretArn,
    secretName,
    secretKmsKeyArn,
    throttleRateLimit: contextInteger(node, 'throttleRateLimit', 1, 10_000, 50),
    throttleBurstLimit: contextInteger(node, 'throttleBurstLimit', 1, 5_000, 100),
    logRetentionDays: logRetention(node),
    bundleAwsSdk: contextString(node, 'bundleAwsSdk') !== 'false',
    tracing: contextString(node, 'tracing') === 'on',
    keepWarm: keepWarmFrom(contextString(node, 'keepWarm')),
    tags: tagsFrom(contextString(node, 'tags')),
    customDomain: customDomainFrom(node),
    alarmEmail: alarmEmailFrom(contextString(node, 'alarmEmail')),
    webhookUrl: webhookUrlFrom(contextString(node, 'webhookUrl')),
    warnings,
  };
}

function keepWarmFrom(value: string | undefined): boolean {
  if (value === undefined || value === 'on') return true;
  if (value === 'off') return false;
  throw new StackSettingsError(`-c keepWarm must be on or off (got ${JSON.stringify(value)})`);
}
