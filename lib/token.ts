// Jitsi tokens: the claims docs/JITSI.md "Our rules" asks for, signed (HS256, or RS256 in ASAP
// mode) and verified the way Prosody does.
import { createHash, createHmac, createSecretKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { FeatureSet } from './features.ts';

/**
 * Room (and tenant) names: the web client joins encodeURIComponent(lowercase(NFKC(name))) and
 * Prosody compares the claim lowercased, so only names that survive both unchanged are safe.
 */
export const SAFE_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,127}$/;

/** Jitsi allows no clock skew at all, so nbf sits 30 s in the past to absorb clock drift. */
export const NOT_BEFORE_SKEW_SECONDS = 30;

/** The longest a token this service signs can be valid for, from its `nbf` to its `exp`. */
export const maxTokenLifetimeSeconds = (settings: { tokenTtlMaxSeconds: number }): number => settings.tokenTtlMaxSeconds + NOT_BEFORE_SKEW_SECONDS;
/** HS256 keys shorter than the hash output weaken the MAC; RFC 7518 §3.2. */
export const MIN_SECRET_BYTES = 32;

export interface JitsiUser {
  id: string;
  name: string;
  email?: string;
  avatar?: string;
}

export interface TokenGrant {
  room: string;
  /** For multi-tenant URLs (https://domain/<tenant>/<room>) the tenant is the `sub`. */
  tenant?: string | undefined;
  user: JitsiUser;
  moderator: boolean;
  /** Seconds since the epoch. */
  issuedAt: number;
  notBefore: number;
  expiresAt: number;
  /** Appointment rooms: the appointment version the token was issued for (a move makes it stale). */
  appointmentVersion?: number | undefined;
  /** When the first token of this session was issued (refresh keeps it; it bounds ad-hoc sessions). */
  sessionStart?: number | undefined;
}

/** iat now, nbf 30 s earlier, exp after the lifetime: the times of a token for immediate use. */
export function tokenTimesFrom(nowSeconds: number, lifetimeSeconds: number): Pick<TokenGrant, 'issuedAt' | 'notBefore' | 'expiresAt'> {
  return { issuedAt: nowSeconds, notBefore: nowSeconds - NOT_BEFORE_SKEW_SECONDS, expiresAt: nowSeconds + lifetimeSeconds };
}

// Tokens issued in the same second share their times (iat, nbf, exp and the window's), so the
// few latest conversions are kept: a request converts several different times.
const recentIso = new Map<number, string>();
const RECENT_ISO_KEPT = 16;
export function isoFromSeconds(seconds: number): string {
  let iso = recentIso.get(seconds);
  if (iso === undefined) {
    iso = new Date(seconds * 1000).toISOString();
    if (recentIso.size >= RECENT_ISO_KEPT) recentIso.clear();
    recentIso.set(seconds, iso);
  }
  return iso;
}

export interface TokenIssuer {
  appId: string;
  audience: string;
  sub: string;
  group: string | undefined;
  moderatorFeatures: FeatureSet;
  participantFeatures: FeatureSet;
  /** Whose tokens carry an email (every participant sees context.user): none unless a setting says. */
  tokenEmail: 'none' | 'moderator' | 'participant' | 'all';
}

export interface JitsiClaims {
  iss: string;
  aud: string;
  sub: string;
  room: string;
  iat: number;
  nbf: number;
  exp: number;
  moderator: boolean;
  /** Ours, ignored by Jitsi and not shown to participants (only context.user is). */
  appointment_version?: number;
  session_start?: number;
  context: {
    user: {
      id: string;
      name: string;
      email?: string;
      avatar?: string;
      moderator: 'true' | 'false';
      affiliation: 'owner' | 'member';
    };
    group?: string;
    features: Readonly<Record<string, boolean>>;
  };
}

/** Built field by field: nothing from a request object is spread into the claims. */
export function buildJitsiClaims(grant: TokenGrant, issuer: TokenIssuer): JitsiClaims {
  const user: JitsiClaims['context']['user'] = {
    id: grant.user.id,
    name: grant.user.name,
    // The role goes everywhere a Jitsi deployment may read it (docs/JITSI.md, "Moderator and features").
    moderator: grant.moderator ? 'true' : 'false',
    affiliation: grant.moderator ? 'owner' : 'member',
  };
  // Every context.user field is shown to all participants: the least by default (id and name),
  // an email only when the operator chose to share it for this role, an avatar only when given.
  const emailShared = issuer.tokenEmail === 'all' || issuer.tokenEmail === (grant.moderator ? 'moderator' : 'participant');
  if (grant.user.email !== undefined && emailShared) user.email = grant.user.email;
  if (grant.user.avatar !== undefined) user.avatar = grant.user.avatar;
  const context: JitsiClaims['context'] = {
    user,
    features: grant.moderator ? issuer.moderatorFeatures : issuer.participantFeatures,
  };
  if (issuer.group !== undefined) context.group = issuer.group;
  const claims: JitsiClaims = {
    iss: issuer.appId,
    aud: issuer.audience,
    sub: grant.tenant ?? issuer.sub,
    room: grant.room,
    iat: grant.issuedAt,
    nbf: grant.notBefore,
    exp: grant.expiresAt,
    moderator: grant.moderator,
    context,
  };
  if (grant.appointmentVersion !== undefined) claims.appointment_version = grant.appointmentVersion;
  claims.session_start = grant.sessionStart ?? grant.issuedAt;
  return claims;
}

/** What the audit trail keeps of a token: its SHA-256, never the token. */
export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('base64url');

/** A KeyObject, made once per secret value: jsonwebtoken with a string key is ~40× slower. */
export function createSigningKey(secret: string): KeyObject {
  if (Buffer.byteLength(secret, 'utf8') < MIN_SECRET_BYTES) {
    throw new RangeError(`the app secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  return createSecretKey(Buffer.from(secret, 'utf8'));
}

/** A JWS header, base64url-encoded once: `{"alg":…,"typ":"JWT"}` (RS256: and its kid). */
const encodedHeader = (header: Record<string, string>): string => Buffer.from(JSON.stringify(header), 'utf8').toString('base64url');
const HS256_HEADER = encodedHeader({ alg: 'HS256', typ: 'JWT' });
const rs256Headers = new Map<string, string>();

/** What a signed token must hold, checked on every token before it is signed (jsonwebtoken's sign checks, and ours). */
export function assertSignable(claims: JitsiClaims): void {
  for (const time of [claims.iat, claims.nbf, claims.exp]) {
    if (!Number.isSafeInteger(time) || time < 0) throw new TypeError('token times must be whole seconds');
  }
  if (!(claims.nbf < claims.exp)) throw new TypeError('a token must expire after it becomes valid');
  if (claims.room === '*' || claims.sub === '*') throw new TypeError('a token never names every room or every tenant');
}

/**
 * HS256 with the app secret (a secret KeyObject), or RS256 ("ASAP") with a private key and its
 * kid, which Prosody uses to fetch the public key from the key server. A compact JWS made with
 * node:crypto directly (the header, the claims, the signature, base64url): the token path's
 * hottest call, where jsonwebtoken's option handling cost more than the HMAC itself.
 */
export function signJitsiToken(claims: JitsiClaims, key: KeyObject, kid?: string): string {
  assertSignable(claims);
  const payload = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
  if (key.type === 'secret') {
    const input = `${HS256_HEADER}.${payload}`;
    return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
  }
  if (key.type !== 'private' || key.asymmetricKeyType !== 'rsa') throw new TypeError('RS256 signs with an RSA private key');
  if (kid === undefined) throw new TypeError('an RS256 token needs a kid');
  let header = rs256Headers.get(kid);
  if (header === undefined) {
    header = encodedHeader({ alg: 'RS256', typ: 'JWT', kid });
    rs256Headers.set(kid, header);
  }
  const input = `${header}.${payload}`;
  return `${input}.${cryptoSign('sha256', Buffer.from(input, 'utf8'), key).toString('base64url')}`;
}

/** The names keyFileName makes. */
export const KEY_FILE_PATTERN = /^[0-9a-f]{64}\.pem$/;

/** Where Prosody's asap_key_server looks an RS256 key up: `<hex(sha256(kid))>.pem`. */
export const keyFileName = (kid: string): string => `${createHash('sha256').update(kid, 'utf8').digest('hex')}.pem`;

/** A key to verify with: a secret KeyObject (HS256), or an RS256 public key with its kid. */
export type VerificationKey = KeyObject | { key: KeyObject; kid: string };

export type InvalidReason =
  | 'malformed'
  | 'wrong_typ'
  | 'wrong_alg'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'missing_claim'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'sub_mismatch'
  | 'wildcard'
  | 'room_mismatch'
  | 'lifetime_too_long';

export interface TokenExpectations {
  appId: string;
  audience: string;
  sub: string;
  /** Longest exp − nbf (or exp − iat) we ever issue, skew included. */
  maxLifetimeSeconds: number;
}

/** What the caller of verify wants to know beyond "would Prosody log this holder in". */
export interface VerifyOptions {
  /** The room the holder wants to join: compared as Prosody does, lowercased. */
  room?: string | undefined;
  /** Accept a token that expired at most this long ago (refresh only; Jitsi has none). */
  expiredGraceSeconds?: number;
  /** Accept any safe tenant name as `sub`, besides the expected one (refresh keeps the tenant). */
  anySafeTenant?: boolean;
  /** Only the current secret counts (refresh never renews a token a rotated-out secret signed). */
  currentSecretOnly?: boolean;
}

export interface VerifiedToken {
  room: string;
  sub: string;
  user: JitsiUser | undefined;
  moderator: boolean;
  issuedAt: number | undefined;
  expiresAt: number;
  notBefore: number | undefined;
  appointmentVersion: number | undefined;
  sessionStart: number | undefined;
}

export type Verdict = { valid: true; token: VerifiedToken } | { valid: false; reason: InvalidReason };

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const invalid = (reason: InvalidReason): Verdict => ({ valid: false, reason });

/** jsonwebtoken's error for a token; the signature is checked before exp and nbf. */
function reasonFor(error: unknown): InvalidReason {
  if (error instanceof jwt.TokenExpiredError) return 'expired';
  if (error instanceof jwt.NotBeforeError) return 'not_yet_valid';
  const message = error instanceof Error ? error.message : '';
  if (message === 'invalid signature') return 'bad_signature';
  if (message === 'invalid algorithm') return 'wrong_alg';
  return 'malformed';
}

/**
 * Verifies as Prosody's token plugin does (one algorithm, typ "JWT", no clock tolerance, iss, aud,
 * a numeric exp required) plus our own rules (no wildcards, bounded lifetime, our sub). The key
 * is always ours: jku, x5u, jwk and kid in the header are never used to choose it.
 */
export function verifyJitsiToken(
  token: string,
  keys: readonly VerificationKey[],
  expected: TokenExpectations,
  nowSeconds: number,
  options: VerifyOptions = {},
): Verdict {
  if (!COMPACT_JWS.test(token)) return invalid('malformed');
  let verified: jwt.Jwt | undefined;
  let reason: InvalidReason = 'bad_signature';
  for (const entry of keys) {
    const { key, kid } = 'key' in entry ? entry : { key: entry, kid: undefined };
    try {
      // One alg per key: jsonwebtoken refuses any other before it looks at the signature.
      // exp is checked in checkClaims, so a refresh may allow a grace; nbf as Prosody does.
      const candidate = jwt.verify(token, key, {
        algorithms: [key.type === 'secret' ? 'HS256' : 'RS256'],
        clockTimestamp: nowSeconds,
        clockTolerance: 0,
        ignoreExpiration: true,
        complete: true,
      });
      // Prosody fetches an RS256 key by kid: a token naming another kid would not verify there.
      if (kid !== undefined && candidate.header.kid !== kid) continue;
      verified = candidate;
      break;
    } catch (error) {
      reason = reasonFor(error);
      if (reason !== 'bad_signature') return invalid(reason);
    }
  }
  if (verified === undefined) return invalid(reason);
  // The header is read only from a verified token, never from an unverified decode.
  if (verified.header.typ !== 'JWT') return invalid('wrong_typ');
  if (Object.hasOwn(verified.header, 'crit')) return invalid('malformed');
  const payload = verified.payload;
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return invalid('malformed');
  return checkClaims(payload as Record<string, unknown>, expected, nowSeconds, options);
}

function userFrom(user: unknown): JitsiUser | undefined {
  if (typeof user !== 'object' || user === null) return undefined;
  const { id, name, email, avatar } = user as Record<string, unknown>;
  if (typeof id !== 'string' || typeof name !== 'string') return undefined;
  const result: JitsiUser = { id, name };
  if (typeof email === 'string') result.email = email;
  if (typeof avatar === 'string') result.avatar = avatar;
  return result;
}

function checkClaims(claims: Record<string, unknown>, expected: TokenExpectations, nowSeconds: number, options: VerifyOptions): Verdict {
  const { exp, nbf, iat, iss, aud, sub, room } = claims;
  if (exp === undefined || iss === undefined || aud === undefined || sub === undefined || room === undefined) return invalid('missing_claim');
  if (typeof exp !== 'number' || (nbf !== undefined && typeof nbf !== 'number') || (iat !== undefined && typeof iat !== 'number')) return invalid('malformed');
  // As Prosody: now >= exp is expired, no tolerance (a refresh passes its grace explicitly).
  if (nowSeconds >= exp + (options.expiredGraceSeconds ?? 0)) return invalid('expired');
  if (iss !== expected.appId) return invalid('wrong_issuer');
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (!audiences.includes(expected.audience)) return invalid('wrong_audience');
  if (typeof room !== 'string' || typeof sub !== 'string' || room === '') return invalid('malformed');
  const context = claims.context as { room?: { regex?: unknown }; user?: Record<string, unknown> } | undefined;
  if (room === '*' || sub === '*' || context?.room?.regex === true) return invalid('wildcard');
  if (sub.toLowerCase() !== expected.sub.toLowerCase() && !(options.anySafeTenant && SAFE_NAME_PATTERN.test(sub))) return invalid('sub_mismatch');
  const start = (nbf as number | undefined) ?? (iat as number | undefined) ?? nowSeconds;
  if (exp - start > expected.maxLifetimeSeconds) return invalid('lifetime_too_long');
  if (options.room !== undefined && room.toLowerCase() !== options.room.toLowerCase()) return invalid('room_mismatch');

  const user = typeof context?.user === 'object' && context.user !== null ? context.user : {};
  return {
    valid: true,
    token: {
      room,
      sub,
      user: userFrom(user),
      moderator: claims.moderator === true || user.moderator === 'true' || user.moderator === true || user.affiliation === 'owner',
      issuedAt: iat as number | undefined,
      expiresAt: exp,
      notBefore: nbf as number | undefined,
      appointmentVersion: typeof claims.appointment_version === 'number' ? claims.appointment_version : undefined,
      sessionStart: typeof claims.session_start === 'number' ? claims.session_start : undefined,
    },
  };
}
