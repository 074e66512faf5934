// Settings: one declarative table says, for each setting, its environment variable, its CDK
// context key, who reads it, how it is parsed, its default and its documentation. Settings,
// the README table, the stack's context mapping and the local server's extra settings all come
// from it. Nothing else reads process.env for our own settings.
import {
  DEFAULT_MODERATOR_FEATURES,
  DEFAULT_PARTICIPANT_FEATURES,
  featureSet,
  JITSI_FEATURES,
  parseFeatureList,
  type FeatureSet,
  type JitsiFeature,
} from './features.ts';
import { SAFE_NAME_PATTERN } from './token.ts';

export type Runtime = 'lambda' | 'sam-local' | 'local';
export type Signing = 'hs256' | 'rs256';
export type AuthMode = 'none' | 'jwt';

/** Where the signing secret comes from. The local server adds a generated file (infra/local). */
export type SecretSource = { kind: 'secrets-manager'; secretId: string } | { kind: 'env'; value: string } | { kind: 'none' };

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    expected: string,
  ) {
    super(`Invalid configuration: ${variable} ${expected}`);
    this.name = 'ConfigError';
  }
}

export const DEFAULT_JITSI_DOMAIN = 'meet.example.com';
export const LOCAL_APP_ID = 'local-dev-app';
export const MIN_TOKEN_TTL_SECONDS = 60;

type Env = Readonly<Record<string, string | undefined>>;

/** What a parser may look at besides its own value: the runtime and the settings read before it. */
export interface ParseContext {
  runtime: Runtime;
  /** Settings earlier in the table, by key. */
  earlier: Readonly<Record<string, unknown>>;
  warn(message: string): void;
}

/** `local`: the local server only (never set in or read by a deployed function). */
export type SettingScope = 'lambda' | 'local';

export interface SettingRow<T> {
  variable: string;
  /** The CDK context key that sets it on the deployed functions (-c key=value), if any. */
  context?: string;
  scope: SettingScope;
  /** One line for the README table. */
  doc: string;
  /** The default, as the README shows it. */
  defaultDoc: string;
  /** `value` is the trimmed variable, undefined when unset or blank. */
  parse(value: string | undefined, context: ParseContext, name: string): T;
}

// Parsers: each names the variable and what it expects when a value does not fit.
const HOSTNAME = /^(?=.{1,253}(?::\d{1,5})?$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::\d{1,5})?$/;
const PLAIN_IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const SUB_VALUE = /^[a-z0-9][a-z0-9._-]{0,252}$/;
const ROOM_PREFIX = /^[a-z0-9][a-z0-9_-]{0,31}$/;
/** A browser origin: scheme and host, optional port, no path, no "*". */
export const ORIGIN_PATTERN = /^https?:\/\/[a-z0-9.-]+(?::\d{1,5})?$/;
/** An address to listen on: IPv4, IPv6 or localhost. */
const BIND_ADDRESS = /^[0-9a-fA-F:.]{2,45}$|^localhost$/;
/** A service endpoint: scheme, host and port, nothing after. */
const ENDPOINT_URL = /^https?:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?\/?$/;
const SECRETS_MANAGER_ID = /^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+|[A-Za-z0-9/_+=.@-]{1,512})$/;

export function matching(pattern: RegExp, expected: string) {
  return (value: string | undefined, name: string): string | undefined => {
    if (value === undefined) return undefined;
    if (!pattern.test(value)) throw new ConfigError(name, `must be ${expected}`);
    return value;
  };
}

/** A whole number within bounds; shared with the stack's own context settings. */
export function wholeNumber(
  value: string | undefined,
  name: string,
  min: number,
  max: number,
  fallback: number,
  makeError: (expected: string) => Error = (expected) => new ConfigError(name, expected),
): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw makeError(`must be a whole number from ${min} to ${max}`);
  return Number(value);
}

const commaList = (value: string): string[] =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

function oneOf<const V extends string>(values: readonly V[], expected: string, fallback: (context: ParseContext) => V, options: { ignoreCase: boolean }) {
  return (value: string | undefined, context: ParseContext, name: string): V => {
    const chosen = value === undefined ? fallback(context) : options.ignoreCase ? value.toLowerCase() : value;
    if (!(values as readonly string[]).includes(chosen)) throw new ConfigError(name, `must be ${expected}`);
    return chosen as V;
  };
}

function featureList(fallback: readonly JitsiFeature[]) {
  return (value: string | undefined, _context: ParseContext, name: string): FeatureSet => {
    if (value === undefined) return featureSet(fallback);
    const parsed = parseFeatureList(value);
    if (parsed === undefined) throw new ConfigError(name, `must be "none" or a comma-separated list of: ${JITSI_FEATURES.join(', ')}`);
    return featureSet(parsed);
  };
}

/** A bearer key given as is: at least 32 characters, and never in Lambda (where it comes from Secrets Manager through `arnVariable`). */
function bearerKeyOutsideLambda(value: string | undefined, context: ParseContext, name: string, arnVariable: string): string | undefined {
  if (value !== undefined && context.runtime === 'lambda') {
    throw new ConfigError(name, `is not honoured in Lambda; store the key in Secrets Manager and set ${arnVariable}`);
  }
  if (value !== undefined && Buffer.byteLength(value, 'utf8') < 32) throw new ConfigError(name, 'must be at least 32 characters');
  return value;
}

const minutes = (min: number, max: number, fallback: number) => (value: string | undefined, _context: ParseContext, name: string) =>
  wholeNumber(value, name, min, max, fallback);

/** Keeps each row's value type, so Settings is derived from the table. */
const row = <T, S extends SettingScope>(definition: SettingRow<T> & { scope: S }): SettingRow<T> & { scope: S } => definition;

/**
 * The settings, in the order they are read (a row may use the rows above it). The stack passes
 * rows with a context key to the functions; rows with scope `local` are the local server's only.
 */
export const SETTINGS = {
  jitsiDomain: row({
    variable: 'JITSI_DOMAIN',
    context: 'jitsiDomain',
    scope: 'lambda',
    doc: 'public hostname of the Jitsi server (join URLs)',
    defaultDoc: '`meet.example.com`, with a start-up warning',
    parse(value, context, name) {
      if (value === undefined) context.warn(`${name} is not set; join URLs use ${DEFAULT_JITSI_DOMAIN}`);
      return matching(HOSTNAME, 'a lowercase hostname such as meet.example.com (optionally with :port)')(value, name) ?? DEFAULT_JITSI_DOMAIN;
    },
  }),
  appId: row({
    variable: 'JITSI_APP_ID',
    context: 'jitsiAppId',
    scope: 'lambda',
    doc: 'Prosody `app_id`: the `iss` claim',
    defaultDoc: 'local: `local-dev-app`; Lambda: required (the stack always sets it: `-c jitsiAppId`, else `jitsi-token-api` with a synth warning)',
    parse(value, context, name) {
      if (value === undefined && context.runtime === 'lambda') throw new ConfigError(name, 'is required in Lambda (the app_id configured in Prosody)');
      return matching(PLAIN_IDENTIFIER, 'an app id of letters, digits, ".", "_", ":" or "-" (at most 128)')(value, name) ?? LOCAL_APP_ID;
    },
  }),
  secretArn: row({
    variable: 'JITSI_SECRET_ARN',
    scope: 'lambda',
    doc: 'Secrets Manager secret (ARN or name) holding the app secret',
    defaultDoc: 'required in Lambda by the functions that sign (the stack sets it for them alone)',
    parse(value, _context, name) {
      // Required by a function that signs (lib/deps.ts): which ones do is the route table's to say.
      return matching(SECRETS_MANAGER_ID, 'a Secrets Manager secret ARN or name')(value, name);
    },
  }),
  appSecret: row({
    variable: 'JITSI_APP_SECRET',
    scope: 'lambda',
    doc: 'the app secret itself; honoured only outside Lambda or under `sam local`',
    defaultDoc: 'local: generated once into an untracked file',
    parse(value, context, name) {
      // A deployed function takes its secret from Secrets Manager only: an env secret would sit
      // in plain text in the function configuration.
      if (value !== undefined && context.runtime === 'lambda') {
        throw new ConfigError(name, `is not honoured in Lambda; store the secret in Secrets Manager and set ${SETTINGS.secretArn.variable}`);
      }
      return value;
    },
  }),
  sub: row({
    variable: 'JITSI_SUB',
    context: 'jitsiSub',
    scope: 'lambda',
    doc: 'the `sub` claim (the XMPP domain, e.g. `meet.jitsi` on Docker)',
    defaultDoc: 'the Jitsi domain',
    parse: (value, context, name) =>
      matching(SUB_VALUE, 'a lowercase XMPP domain or tenant such as meet.jitsi (never "*")')(value, name) ??
      (context.earlier.jitsiDomain as string).replace(/:\d+$/, ''),
  }),
  audience: row({
    variable: 'JITSI_AUDIENCE',
    context: 'jitsiAudience',
    scope: 'lambda',
    doc: 'the `aud` claim',
    defaultDoc: 'the app id',
    parse: (value, context, name) =>
      matching(PLAIN_IDENTIFIER, 'an audience of letters, digits, ".", "_", ":" or "-" (at most 128)')(value, name) ?? (context.earlier.appId as string),
  }),
  group: row({
    variable: 'JITSI_GROUP',
    context: 'jitsiGroup',
    scope: 'lambda',
    doc: '`context.group`',
    defaultDoc: 'omitted',
    parse: (value, _context, name) => matching(PLAIN_IDENTIFIER, 'letters, digits, ".", "_", ":" or "-" (at most 128)')(value, name),
  }),
  defaultTenant: row({
    variable: 'JITSI_TENANT',
    context: 'jitsiTenant',
    scope: 'lambda',
    doc: 'tenant used when a request names none: it becomes `sub` and `https://<domain>/<tenant>/<room>`',
    defaultDoc: 'none',
    parse: (value, _context, name) => matching(SAFE_NAME_PATTERN, 'lowercase letters, digits, "_" or "-" (the room name rules, at most 128)')(value, name),
  }),
  moderatorFeatures: row({
    variable: 'JITSI_FEATURES_MODERATOR',
    context: 'featuresModerator',
    scope: 'lambda',
    doc: `features enabled for moderators, comma-separated, or \`none\`; Jitsi's keys only (${JITSI_FEATURES.map((feature) => `\`${feature}\``).join(', ')})`,
    defaultDoc: `\`${DEFAULT_MODERATOR_FEATURES.join(',')}\``,
    parse: featureList(DEFAULT_MODERATOR_FEATURES),
  }),
  participantFeatures: row({
    variable: 'JITSI_FEATURES_PARTICIPANT',
    context: 'featuresParticipant',
    scope: 'lambda',
    doc: 'features enabled for participants, as above',
    defaultDoc: `\`${DEFAULT_PARTICIPANT_FEATURES.join(',')}\``,
    parse: featureList(DEFAULT_PARTICIPANT_FEATURES),
  }),
  signing: row({
    variable: 'JITSI_SIGNING',
    context: 'jitsiSigning',
    scope: 'lambda',
    doc: "`hs256` (sign with Prosody's `app_secret`) or `rs256` (sign with a private key; Prosody fetches public keys from the keys route)",
    defaultDoc: '`hs256`',
    parse: oneOf<Signing>(['hs256', 'rs256'], '"hs256" (app_secret) or "rs256" (private key, public keys from the keys route)', () => 'hs256', {
      ignoreCase: true,
    }),
  }),
  refreshGraceSeconds: row({
    variable: 'REFRESH_GRACE_SECONDS',
    context: 'refreshGraceSeconds',
    scope: 'lambda',
    doc: 'how long after expiry refresh still renews a token',
    defaultDoc: '900',
    parse: (value, _context, name) => wholeNumber(value, name, 0, 86_400, 900),
  }),
  tokenTtlMaxSeconds: row({
    variable: 'TOKEN_TTL_MAX_SECONDS',
    context: 'tokenTtlMaxSeconds',
    scope: 'lambda',
    doc: 'longest token lifetime (minimum 60)',
    defaultDoc: '86400',
    parse: (value, _context, name) => wholeNumber(value, name, MIN_TOKEN_TTL_SECONDS, 7 * 86_400, 86_400),
  }),
  tokenTtlSeconds: row({
    variable: 'TOKEN_TTL_SECONDS',
    context: 'tokenTtlSeconds',
    scope: 'lambda',
    doc: 'default token lifetime (minimum 60, at most the longest)',
    defaultDoc: '7200',
    parse(value, context, name) {
      const max = context.earlier.tokenTtlMaxSeconds as number;
      return wholeNumber(value, name, MIN_TOKEN_TTL_SECONDS, max, Math.min(7_200, max));
    },
  }),
  authMode: row({
    variable: 'AUTH_MODE',
    scope: 'lambda',
    doc: '`none` (trust the body) or `jwt` (caller identity from an OIDC token); the stack sets it from its auth context',
    defaultDoc: '`none` locally; `jwt` in Lambda',
    parse(value, context, name) {
      // A deployed function fails closed: without an explicit AUTH_MODE it expects caller tokens.
      const mode = oneOf<AuthMode>(['none', 'jwt'], '"none" or "jwt"', ({ runtime }) => (runtime === 'lambda' ? 'jwt' : 'none'), { ignoreCase: false })(
        value,
        context,
        name,
      );
      if (mode === 'none') context.warn(`${name}=none: request bodies are trusted and anyone who can reach the service can mint tokens`);
      return mode;
    },
  }),
  moderatorClaim: row({
    variable: 'MODERATOR_CLAIM',
    context: 'moderatorClaim',
    scope: 'lambda',
    doc: 'caller claim that grants the moderator role',
    defaultDoc: '`cognito:groups`',
    parse: (value, _context, name) => matching(/^[A-Za-z0-9_:./-]{1,128}$/, 'a claim name such as cognito:groups')(value, name) ?? 'cognito:groups',
  }),
  moderatorValues: row({
    variable: 'MODERATOR_VALUES',
    context: 'moderatorValues',
    scope: 'lambda',
    doc: 'comma-separated values of that claim that grant the moderator role',
    defaultDoc: '`moderators`',
    parse(value, _context, name): readonly string[] {
      const values = value === undefined ? ['moderators'] : commaList(value);
      if (values.length === 0 || values.some((item) => !/^[^\s,[\]]{1,128}$/.test(item))) {
        throw new ConfigError(name, 'must be a comma-separated list of role values without spaces or brackets');
      }
      return Object.freeze(values);
    },
  }),
  corsOrigins: row({
    variable: 'CORS_ORIGINS',
    context: 'corsOrigins',
    scope: 'lambda',
    doc: 'allowed browser origins, comma-separated (the stack also answers preflight for them; the local console is same-origin and needs none)',
    defaultDoc: 'none (the local server also allows every loopback origin)',
    parse(value, _context, name): readonly string[] {
      if (value === undefined) return Object.freeze([]);
      const origins = commaList(value);
      if (origins.some((origin) => !ORIGIN_PATTERN.test(origin))) {
        throw new ConfigError(
          name,
          'must be a comma-separated list of origins such as https://app.example.com (scheme and host, optional port, no path, no "*")',
        );
      }
      return Object.freeze(origins);
    },
  }),
  avatarHosts: row({
    variable: 'AVATAR_HOSTS',
    context: 'avatarHosts',
    scope: 'lambda',
    doc: 'hosts avatar pictures may come from (https only, comma-separated); an avatar URL anywhere else is refused, so no picture can track participants',
    defaultDoc: 'none: no avatars',
    parse(value, _context, name): readonly string[] {
      const hosts = value === undefined ? [] : commaList(value).map((host) => host.toLowerCase());
      if (hosts.some((host) => !HOSTNAME.test(host) || /^[\d.]+$/.test(host) || host.includes(':'))) {
        throw new ConfigError(name, 'must be a comma-separated list of host names such as cdn.example.com (no scheme, port or IP address)');
      }
      return Object.freeze(hosts);
    },
  }),
  tokenEmail: row({
    variable: 'TOKEN_EMAIL',
    context: 'tokenEmail',
    scope: 'lambda',
    doc: "which tokens carry the holder's email (every participant sees it): `none`, `moderator`, `participant` or `all`",
    defaultDoc: '`none`',
    parse: oneOf<'none' | 'moderator' | 'participant' | 'all'>(
      ['none', 'moderator', 'participant', 'all'],
      '"none", "moderator", "participant" or "all"',
      () => 'none',
      { ignoreCase: true },
    ),
  }),
  trustUnverifiedEmail: row({
    variable: 'TRUST_UNVERIFIED_EMAIL',
    context: 'trustUnverifiedEmail',
    scope: 'lambda',
    doc: "`on`: take a caller's `email` claim when the issuer sends no `email_verified` claim at all (never when it says false)",
    defaultDoc: '`off`',
    parse: (value, context, name) => oneOf(['on', 'off'], '"on" or "off"', () => 'off', { ignoreCase: true })(value, context, name) === 'on',
  }),
  roomPrefix: row({
    variable: 'ROOM_PREFIX',
    context: 'roomPrefix',
    scope: 'lambda',
    doc: 'prefix of appointment room names',
    defaultDoc: '`appt`',
    parse: (value, _context, name) => matching(ROOM_PREFIX, 'lowercase letters, digits, "_" or "-" (at most 32)')(value, name) ?? 'appt',
  }),
  appointmentEarlyJoinMinutes: row({
    variable: 'APPOINTMENT_EARLY_JOIN_MINUTES',
    context: 'appointmentEarlyJoinMinutes',
    scope: 'lambda',
    doc: "how early before the start an appointment's tokens are valid",
    defaultDoc: '15',
    parse: minutes(0, 240, 15),
  }),
  appointmentDefaultDurationMinutes: row({
    variable: 'APPOINTMENT_DURATION_MINUTES',
    context: 'appointmentDurationMinutes',
    scope: 'lambda',
    doc: 'appointment length when a request names none',
    defaultDoc: '60',
    parse: minutes(5, 720, 60),
  }),
  appointmentGraceMinutes: row({
    variable: 'APPOINTMENT_GRACE_MINUTES',
    context: 'appointmentGraceMinutes',
    scope: 'lambda',
    doc: "how long after the planned end an appointment's tokens stay valid",
    defaultDoc: '15',
    parse: minutes(0, 240, 15),
  }),
  appointmentsTable: row({
    variable: 'APPOINTMENTS_TABLE',
    scope: 'lambda',
    doc: 'the DynamoDB table of appointments, room pointers and audit records (the stack sets it)',
    defaultDoc: 'local: `jitsi-appointments` in the embedded store; Lambda: required',
    parse(value, context, name) {
      if (value === undefined && context.runtime === 'lambda') throw new ConfigError(name, 'is required in Lambda (the DynamoDB table the stack creates)');
      return matching(/^[A-Za-z0-9_.-]{3,255}$/, 'a DynamoDB table name (3 to 255 letters, digits, "_", "-" or ".")')(value, name) ?? 'jitsi-appointments';
    },
  }),
  appointmentsEndpoint: row({
    variable: 'APPOINTMENTS_ENDPOINT',
    scope: 'lambda',
    doc: 'a DynamoDB endpoint for the table, for `sam local` only (e.g. `http://host.docker.internal:8000`: `npm start` with `LOCAL_STORE_PORT=8000` serves its embedded store there); refused in Lambda',
    defaultDoc: 'none (DynamoDB of the region)',
    parse(value, context, name) {
      // A deployed function reaches the region's DynamoDB only: an endpoint here would send its data elsewhere.
      if (value !== undefined && context.runtime === 'lambda') throw new ConfigError(name, 'is honoured only under sam local');
      return matching(ENDPOINT_URL, 'an http(s) endpoint URL such as http://host.docker.internal:8000')(value, name);
    },
  }),
  adhocRooms: row({
    variable: 'ADHOC_ROOMS',
    context: 'adhocRooms',
    scope: 'lambda',
    doc: '`on`: any room name outside the appointment prefix gets tokens under the identity rules; `off`: appointment rooms only',
    defaultDoc: '`on`',
    parse: (value, context, name) => oneOf(['on', 'off'], '"on" or "off"', () => 'on', { ignoreCase: true })(value, context, name) === 'on',
  }),
  adhocSessionMaxMinutes: row({
    variable: 'ADHOC_SESSION_MAX_MINUTES',
    context: 'adhocSessionMaxMinutes',
    scope: 'lambda',
    doc: 'how long refresh can keep an ad-hoc room token going, counted from its first issue; also how long the reservation API lets an ad-hoc room live',
    defaultDoc: '720',
    parse: minutes(5, 10_080, 720),
  }),
  auditRetentionDays: row({
    variable: 'AUDIT_RETENTION_DAYS',
    context: 'auditRetentionDays',
    scope: 'lambda',
    doc: 'how long audit records (and ended appointments) are kept before DynamoDB TTL removes them',
    defaultDoc: '2190 (six years)',
    parse: (value, _context, name) => wholeNumber(value, name, 1, 36_500, 2_190),
  }),
  reservationsKeyArn: row({
    variable: 'RESERVATIONS_KEY_ARN',
    scope: 'lambda',
    doc: "Secrets Manager secret holding the bearer key Prosody's reservation module sends (the stack generates it)",
    defaultDoc: 'set by the stack',
    parse: (value, _context, name) => matching(SECRETS_MANAGER_ID, 'a Secrets Manager secret ARN or name')(value, name),
  }),
  reservationsApiKey: row({
    variable: 'RESERVATIONS_API_KEY',
    scope: 'lambda',
    doc: 'the reservation key itself (at least 32 characters); honoured only outside Lambda or under `sam local`',
    defaultDoc: 'local: generated once into an untracked file',
    parse: (value, context, name) => bearerKeyOutsideLambda(value, context, name, 'RESERVATIONS_KEY_ARN'),
  }),
  reservationsLobby: row({
    variable: 'RESERVATIONS_LOBBY',
    context: 'reservationsLobby',
    scope: 'lambda',
    doc: "`on`: the reservation answer asks Prosody to open appointment rooms with the lobby on, so clients wait until the therapist admits them (Prosody's `reservations_enable_lobby_support`)",
    defaultDoc: '`on`',
    parse: (value, context, name) => oneOf(['on', 'off'], '"on" or "off"', () => 'on', { ignoreCase: true })(value, context, name) === 'on',
  }),
  joinLinkTtlMinutes: row({
    variable: 'JOIN_LINK_TTL_MINUTES',
    context: 'joinLinkTtlMinutes',
    scope: 'lambda',
    doc: "how long a single-use join link can be exchanged (never past the appointment's end)",
    defaultDoc: '120',
    parse: minutes(5, 10_080, 120),
  }),
  joinLinkBaseUrl: row({
    variable: 'JOIN_LINK_BASE_URL',
    context: 'joinLinkBaseUrl',
    scope: 'lambda',
    doc: 'the web app page that exchanges join codes; when set, a new join link also comes as `<url>#code=<code>`',
    defaultDoc: 'none',
    parse: (value, _context, name) =>
      matching(/^https?:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?(?:\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?$/, 'an http(s) URL without query or fragment')(value, name),
  }),
  eventsKeyArn: row({
    variable: 'EVENTS_KEY_ARN',
    scope: 'lambda',
    doc: "Secrets Manager secret holding the bearer key Prosody's event sync component sends in `api_headers` (the stack generates it)",
    defaultDoc: 'set by the stack',
    parse: (value, _context, name) => matching(SECRETS_MANAGER_ID, 'a Secrets Manager secret ARN or name')(value, name),
  }),
  eventsApiKey: row({
    variable: 'EVENTS_API_KEY',
    scope: 'lambda',
    doc: 'the event sync key itself (at least 32 characters); honoured only outside Lambda or under `sam local`',
    defaultDoc: 'local: generated once into an untracked file',
    parse: (value, context, name) => bearerKeyOutsideLambda(value, context, name, 'EVENTS_KEY_ARN'),
  }),
  mucDomain: row({
    variable: 'JITSI_MUC_DOMAIN',
    context: 'jitsiMucDomain',
    scope: 'lambda',
    doc: "Prosody's conference (MUC) domain, for the room address the end-meeting call names (`<room>@<domain>`; tenants: `<room>@conference.<tenant>.<XMPP domain>`)",
    defaultDoc: '`conference.` + `JITSI_SUB`',
    parse: (value, context, name) =>
      matching(SUB_VALUE, 'a domain name such as conference.meet.jitsi')(value, name) ?? `conference.${String(context.earlier.sub)}`,
  }),
  endMeetingUrl: row({
    variable: 'END_MEETING_URL',
    context: 'endMeetingUrl',
    scope: 'lambda',
    doc: "Prosody's end-meeting endpoint (mod_muc_end_meeting) behind an unguessable path, e.g. `https://meet.example.com/end-meeting-<random>` (README: ending the meeting); when set, cancelling an appointment whose room is in use ends the meeting, and the therapist can end it",
    defaultDoc: 'none (meetings are not ended)',
    parse: (value, _context, name) =>
      matching(
        /^(?:https:\/\/[A-Za-z0-9.-]+|http:\/\/(?:localhost|127\.0\.0\.1|\[::1\]))(?::\d{1,5})?(?:\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?$/,
        'an https URL without query or fragment (http only to this machine: localhost, 127.0.0.1 or [::1])',
      )(value, name),
  }),
  endMeetingAttempts: row({
    variable: 'END_MEETING_ATTEMPTS',
    context: 'endMeetingAttempts',
    scope: 'lambda',
    doc: "how many times an end-meeting call is tried before it is recorded as failed (at most 3, so every try fits in the function's 10 s)",
    defaultDoc: '3',
    parse: (value, _context, name) => wholeNumber(value, name, 1, 3, 3),
  }),
  webhookUrl: row({
    variable: 'WEBHOOK_URL',
    scope: 'lambda',
    doc: "the platform's webhook endpoint: the platform events are delivered there as Standard Webhooks (the stack sets it on the Prosody function from `-c webhookUrl`; locally `npm start` delivers)",
    defaultDoc: 'none (nothing is delivered)',
    parse: (value, _context, name) => matching(/^https?:\/\/\S+$/, 'an http(s) URL')(value, name),
  }),
  webhookSecretArn: row({
    variable: 'WEBHOOK_SECRET_ARN',
    scope: 'lambda',
    doc: 'Secrets Manager secret whose value signs the webhooks the stack delivers (with `-c webhookUrl`; the stack generates it)',
    defaultDoc: 'none',
    parse: (value, _context, name) => matching(SECRETS_MANAGER_ID, 'a Secrets Manager secret ARN or name')(value, name),
  }),
  eventBusName: row({
    variable: 'EVENT_BUS_NAME',
    scope: 'lambda',
    doc: 'the EventBridge bus the functions publish decisions and attendance to (the stack creates it and sets this)',
    defaultDoc: 'none (nothing is published)',
    parse: (value, _context, name) => matching(/^[A-Za-z0-9._/-]{1,256}$/, 'an EventBridge bus name')(value, name),
  }),
  logLevel: row({
    variable: 'LOG_LEVEL',
    context: 'logLevel',
    scope: 'lambda',
    doc: 'the least severe log line written: `info` (one line per request), `warn` or `error`',
    defaultDoc: '`info`',
    parse: oneOf<'info' | 'warn' | 'error'>(['info', 'warn', 'error'], '"info", "warn" or "error"', () => 'info', { ignoreCase: true }),
  }),
  secretRefreshSeconds: row({
    variable: 'SECRET_REFRESH_SECONDS',
    scope: 'lambda',
    doc: 'how long a loaded secret is used before it is fetched again',
    defaultDoc: '300',
    parse: (value, _context, name) => wholeNumber(value, name, 1, 86_400, 300),
  }),
  secretStaleSeconds: row({
    variable: 'SECRET_STALE_SECONDS',
    scope: 'lambda',
    doc: 'how long the last good secret keeps serving while fetches fail',
    defaultDoc: '3600',
    parse: (value, _context, name) => wholeNumber(value, name, 0, 86_400, 3_600),
  }),
  secretRotationOverlapSeconds: row({
    variable: 'SECRET_ROTATION_OVERLAP_SECONDS',
    scope: 'lambda',
    doc: 'how long after a new secret version was created (its Secrets Manager `CreatedDate`) `validate-token` still accepts tokens signed with the previous version (`AWSPREVIOUS`); `0`: never',
    defaultDoc: '300',
    parse: (value, _context, name) => wholeNumber(value, name, 0, 86_400, 300),
  }),
  port: row({
    variable: 'PORT',
    scope: 'local',
    doc: 'local server port',
    defaultDoc: '3001',
    parse: (value, _context, name) => wholeNumber(value, name, 0, 65_535, 3001),
  }),
  host: row({
    variable: 'HOST',
    scope: 'local',
    doc: 'local server bind address',
    defaultDoc: '`127.0.0.1`',
    parse: (value, _context, name) => matching(BIND_ADDRESS, 'an IP address to bind, e.g. 127.0.0.1 or 0.0.0.0')(value, name) ?? '127.0.0.1',
  }),
  localStore: row({
    variable: 'LOCAL_STORE',
    scope: 'local',
    doc: 'where the embedded DynamoDB-compatible store keeps its data: a folder, or `memory`',
    defaultDoc: '`.jitsi-dev-store` (untracked)',
    parse: (value, _context, name) => matching(/^[^\0]{1,1024}$/, 'a folder path or "memory"')(value, name) ?? '.jitsi-dev-store',
  }),
  localStorePort: row({
    variable: 'LOCAL_STORE_PORT',
    scope: 'local',
    doc: "serve the embedded store's DynamoDB endpoint on this port too, for functions under `sam local` (their `APPOINTMENTS_ENDPOINT`, README: sam local)",
    defaultDoc: 'none (a loopback port of its own, not printed)',
    parse: (value, _context, name) => (value === undefined ? undefined : wholeNumber(value, name, 1, 65535, 0)),
  }),
  localStoreHost: row({
    variable: 'LOCAL_STORE_HOST',
    scope: 'local',
    doc: "the address the embedded store listens on with `LOCAL_STORE_PORT` (Linux: the Docker bridge's, e.g. `172.17.0.1`, so sam local's containers reach it; it has no authentication, so never a public one)",
    defaultDoc: '`127.0.0.1`',
    parse(value, context, name) {
      const host = matching(BIND_ADDRESS, 'an IP address to bind, e.g. 127.0.0.1 or 172.17.0.1')(value, name) ?? '127.0.0.1';
      if (host === '0.0.0.0' || host === '::')
        context.warn(`${name}=${host}: the embedded store (no authentication) is reachable from every network this machine is on`);
      return host;
    },
  }),
  localDynamoDbEndpoint: row({
    variable: 'LOCAL_DYNAMODB_ENDPOINT',
    scope: 'local',
    doc: "use this DynamoDB endpoint (e.g. `https://dynamodb.eu-west-1.amazonaws.com`, with the AWS SDK's usual credentials and region) instead of the embedded store; the table `APPOINTMENTS_TABLE` must exist there with the stack's keys (`pk`, `sk`)",
    defaultDoc: 'none (the embedded store)',
    parse: (value, _context, name) => matching(ENDPOINT_URL, 'an http(s) endpoint URL such as https://dynamodb.eu-west-1.amazonaws.com')(value, name),
  }),
  localHostnames: row({
    variable: 'LOCAL_HOSTNAMES',
    scope: 'local',
    doc: 'host names the local server answers besides loopback ones (its Host check stops DNS rebinding)',
    defaultDoc: 'none',
    parse(value, _context, name): readonly string[] {
      const hosts = value === undefined ? [] : commaList(value).map((host) => host.toLowerCase());
      if (hosts.some((host) => !HOSTNAME.test(host))) throw new ConfigError(name, 'must be a comma-separated list of host names');
      return Object.freeze(hosts);
    },
  }),
  webhookSecret: row({
    variable: 'WEBHOOK_SECRET',
    scope: 'local',
    doc: 'the Standard Webhooks signing secret (`whsec_` + base64) for `WEBHOOK_URL`',
    defaultDoc: 'generated once into an untracked file (`.jitsi-dev-webhook-secret`)',
    parse: (value, _context, name) => matching(/^whsec_[A-Za-z0-9+/]{22,}={0,2}$/, 'whsec_ followed by a base64 key of at least 16 bytes')(value, name),
  }),
  authIssuer: row({
    variable: 'AUTH_ISSUER',
    scope: 'local',
    doc: 'OIDC issuer of caller tokens, for the local server in `jwt` mode (the stack takes `-c authIssuer`)',
    defaultDoc: 'none',
    parse: (value, _context, name) => matching(/^https?:\/\/\S+$/, 'the https URL of the OIDC issuer')(value, name),
  }),
  authAudience: row({
    variable: 'AUTH_AUDIENCE',
    scope: 'local',
    doc: 'audience of caller tokens, for the local server in `jwt` mode (the stack takes `-c authAudience`)',
    defaultDoc: 'none',
    parse: (value) => value,
  }),
} as const;

type Rows = typeof SETTINGS;
type ValueOfRow<R> = R extends SettingRow<infer T> ? T : never;
type KeysInScope<S extends SettingScope> = { [K in keyof Rows]: Rows[K]['scope'] extends S ? K : never }[keyof Rows];

/** What a deployed function reads: every `lambda` row, plus where the secret comes from. */
export type Settings = { readonly [K in KeysInScope<'lambda'>]: ValueOfRow<Rows[K]> } & {
  readonly runtime: Runtime;
  readonly secretSource: SecretSource;
  /** Where the reservation API's bearer key comes from. */
  readonly reservationKeySource: SecretSource;
  /** Where the event sync component's bearer key comes from. */
  readonly eventsKeySource: SecretSource;
  readonly warnings: readonly string[];
};

/** The local server's settings: the function settings plus the `local` rows. */
export type LocalSettings = Settings & { readonly [K in KeysInScope<'local'>]: ValueOfRow<Rows[K]> };

export type SettingKey = keyof Rows;
export const SETTING_ROWS: readonly (readonly [SettingKey, SettingRow<unknown>])[] = Object.entries(SETTINGS) as [SettingKey, SettingRow<unknown>][];

/** Every variable the settings table reads (the runtime is detected from AWS's own variables). */
export const SETTING_VARIABLES: readonly string[] = SETTING_ROWS.map(([, definition]) => definition.variable);

export function detectRuntime(env: Env = process.env): Runtime {
  if (env.AWS_SAM_LOCAL === 'true') return 'sam-local';
  if (env.AWS_LAMBDA_FUNCTION_NAME !== undefined && env.AWS_LAMBDA_FUNCTION_NAME.trim() !== '') return 'lambda';
  return 'local';
}

function readRows(env: Env, scopes: readonly SettingScope[]): { values: Record<string, unknown>; runtime: Runtime; warnings: string[] } {
  const runtime = detectRuntime(env);
  const warnings: string[] = [];
  const values: Record<string, unknown> = {};
  const context: ParseContext = { runtime, earlier: values, warn: (message) => warnings.push(message) };
  for (const [key, definition] of SETTING_ROWS) {
    if (!scopes.includes(definition.scope)) continue;
    const raw = env[definition.variable];
    // Secrets are taken as they are (spaces may be part of them); everything else is trimmed.
    const value =
      raw === undefined || raw.trim() === '' ? undefined : key === 'appSecret' || key === 'reservationsApiKey' || key === 'eventsApiKey' ? raw : raw.trim();
    values[key] = definition.parse(value, context, definition.variable);
  }
  return { values, runtime, warnings };
}

/** A secret given as is (outside Lambda) wins over one named in Secrets Manager. */
function sourceOf(value: unknown, secretId: unknown): SecretSource {
  if (typeof value === 'string') return { kind: 'env', value };
  if (typeof secretId === 'string') return { kind: 'secrets-manager', secretId };
  return { kind: 'none' };
}

function settingsFrom(env: Env, scopes: readonly SettingScope[]) {
  const { values, runtime, warnings } = readRows(env, scopes);
  return Object.freeze({
    ...values,
    runtime,
    secretSource: sourceOf(values.appSecret, values.secretArn),
    reservationKeySource: sourceOf(values.reservationsApiKey, values.reservationsKeyArn),
    eventsKeySource: sourceOf(values.eventsApiKey, values.eventsKeyArn),
    warnings: Object.freeze(warnings),
  });
}

/** Reads and validates every function setting once; a bad value throws a ConfigError naming it. */
export function loadSettings(env: Env = process.env): Settings {
  return settingsFrom(env, ['lambda']) as unknown as Settings;
}

/** The local server's settings (infra/local): the function settings and the local-only rows. */
export function loadLocalSettings(env: Env = process.env): LocalSettings {
  return settingsFrom(env, ['lambda', 'local']) as unknown as LocalSettings;
}

/** An environment map from setting keys (scripts and tests name settings by key, not by variable). */
export function settingsEnvironment(values: Partial<Record<SettingKey, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [SETTINGS[key as SettingKey].variable, value as string]));
}

/** The README's settings table, made from the rows (a test checks the README holds it). */
export function settingsTableMarkdown(): string {
  const lines = ['| variable | CDK context | read by | meaning | default |', '|---|---|---|---|---|'];
  for (const [, definition] of SETTING_ROWS) {
    const context = definition.context === undefined ? '—' : `\`${definition.context}\``;
    const readBy = definition.scope === 'local' ? 'local server' : 'functions and local server';
    lines.push(`| \`${definition.variable}\` | ${context} | ${readBy} | ${definition.doc} | ${definition.defaultDoc} |`);
  }
  return lines.join('\n');
}
