// Who may get which token. With AUTH_MODE=jwt the caller is who the API Gateway JWT authorizer
// says it is; the body may only repeat that, never change it.
import { randomBytes } from 'node:crypto';
import type { AuthMode } from './config.ts';
import { forbidden, invalidField, unauthenticated } from './errors.ts';
import type { CreateRoomInput, GenerateTokenInput } from './requests.ts';
import { avatarUrl, EMAIL_MAX_CHARS, EMAIL_PATTERN, USER_ID_PATTERN } from './requests.ts';
import { parseText } from './schema.ts';
import type { JitsiUser, Verdict, VerifiedToken } from './token.ts';

export interface PolicySettings {
  authMode: AuthMode;
  moderatorClaim: string;
  moderatorValues: readonly string[];
  avatarHosts: readonly string[];
  trustUnverifiedEmail: boolean;
}

export interface Caller {
  id: string;
  /** From the verified claims: name, given + family name, a username, else a neutral label. */
  name: string;
  /** Only a verified email (email_verified true, or no such claim when the operator trusts that). */
  email: string | undefined;
  /** Only `picture`, on an allowed host. */
  avatar: string | undefined;
  isModerator: boolean;
}

/** The display name of a caller whose token carries none we can show (never taken from the body). */
export const NEUTRAL_NAME = 'Participant';

/** The claims API Gateway hands a function: strings, numbers, booleans, sometimes arrays. */
export type CallerClaims = Readonly<Record<string, unknown>>;

interface EventWithAuthorizer {
  requestContext?: object;
  headers?: Record<string, string | undefined>;
}

/**
 * The caller token's own payload, from the Authorization header the authorizer verified (its
 * identity source): API Gateway hands array claims to the function flattened as "[a b c]", which
 * cannot tell the group "former therapists" from two groups, and numbers as strings. Undefined
 * when the header is absent or not a JWT (then the flattened claims are all there is).
 */
function verifiedTokenPayload(event: EventWithAuthorizer): Record<string, unknown> | undefined {
  const token = /^(?:Bearer )?([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]*$/.exec(event.headers?.authorization ?? '');
  if (token === null) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(token[2]!, 'base64url').toString('utf8'));
    return typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? (payload as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A role claim's values: a JSON array's string elements (nothing nested), a plain string as one
 * value (never split), or the bracketed form API Gateway's HTTP API makes of an array claim,
 * "[therapists admins]", split on single ASCII spaces only. Values then match exactly.
 */
export function claimValues(claim: unknown): string[] {
  if (Array.isArray(claim)) return claim.filter((item): item is string => typeof item === 'string');
  if (typeof claim !== 'string') return [];
  if (claim.startsWith('[') && claim.endsWith(']'))
    return claim
      .slice(1, -1)
      .split(' ')
      .filter((item) => item !== '');
  return claim === '' ? [] : [claim];
}

function safeDisplayName(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    return parseText(value, 'name', { maxChars: 128, maxBytes: 512, humanText: true }, 'a display name');
  } catch {
    return undefined;
  }
}

/** True, or API Gateway's flattened "true". */
const claimIsTrue = (value: unknown) => value === true || value === 'true';

function verifiedEmail(claims: CallerClaims, trustUnverified: boolean): string | undefined {
  const { email, email_verified: verified } = claims;
  if (typeof email !== 'string' || email.length > EMAIL_MAX_CHARS || !EMAIL_PATTERN.test(email)) return undefined;
  if (claimIsTrue(verified)) return email;
  return verified === undefined && trustUnverified ? email : undefined;
}

function avatarFromClaims(picture: unknown, hosts: readonly string[]): string | undefined {
  try {
    return avatarUrl(hosts).optional.parse(picture, 'picture');
  } catch {
    return undefined;
  }
}

function nameFromClaims(claims: CallerClaims): string | undefined {
  const given = typeof claims.given_name === 'string' ? claims.given_name : '';
  const family = typeof claims.family_name === 'string' ? claims.family_name : '';
  return (
    safeDisplayName(claims.name) ??
    safeDisplayName(`${given} ${family}`.trim()) ??
    safeDisplayName(claims['cognito:username']) ??
    safeDisplayName(claims.preferred_username) ??
    safeDisplayName(claims.username)
  );
}

/** The authenticated caller, or undefined when AUTH_MODE=none. */
export function identifyCaller(event: EventWithAuthorizer, settings: PolicySettings): Caller | undefined {
  if (settings.authMode === 'none') return undefined;
  const context = event.requestContext as { authorizer?: { jwt?: { claims?: CallerClaims } } } | undefined;
  const claims = context?.authorizer?.jwt?.claims;
  // No claims in jwt mode means the authorizer is missing from the route: refuse, never guess.
  // A subject that breaks the id rules is no identity either.
  if (!claims || typeof claims.sub !== 'string' || !USER_ID_PATTERN.test(claims.sub)) {
    throw unauthenticated('A valid caller token (Authorization: Bearer) is required.');
  }
  // The verified token itself, where it is at hand: its sub must be a string (API Gateway turns
  // 123 or true into "123", "true"), and must be the one the authorizer handed over.
  const payload = verifiedTokenPayload(event);
  if (payload !== undefined && (typeof payload.sub !== 'string' || payload.sub !== claims.sub)) {
    throw unauthenticated('A valid caller token (Authorization: Bearer) is required.');
  }
  const roles = claimValues(payload !== undefined ? payload[settings.moderatorClaim] : claims[settings.moderatorClaim]);
  return {
    id: claims.sub,
    name: nameFromClaims(claims) ?? NEUTRAL_NAME,
    email: verifiedEmail(claims, settings.trustUnverifiedEmail),
    avatar: avatarFromClaims(claims.picture, settings.avatarHosts),
    isModerator: roles.some((role) => settings.moderatorValues.includes(role)),
  };
}

function guestId(): string {
  return `guest-${randomBytes(9).toString('base64url')}`;
}

function sameEmail(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/**
 * The caller as a meeting user: every field from the verified claims. The body may leave them
 * out or repeat them exactly; it can never supply one.
 */
function callerAsUser(
  caller: Caller,
  body: { id?: string | undefined; name?: string | undefined; email?: string | undefined; avatar?: string | undefined },
  fields: { id: string; name: string; email?: string; avatar?: string },
): JitsiUser {
  if (body.id !== undefined && body.id !== caller.id) throw forbidden("The id must be the caller's own (or be omitted).", fields.id);
  if (body.email !== undefined && (caller.email === undefined || !sameEmail(body.email, caller.email))) {
    throw forbidden('The email comes from the caller token (a verified one); omit it or send the same one.', fields.email);
  }
  if (body.name !== undefined && body.name !== caller.name) {
    throw forbidden('The display name comes from the caller token; omit it or send the same one.', fields.name);
  }
  if (body.avatar !== undefined && body.avatar !== caller.avatar) {
    throw forbidden('The avatar comes from the caller token (picture); omit it or send the same one.', fields.avatar);
  }
  const user: JitsiUser = { id: caller.id, name: caller.name };
  if (caller.email !== undefined) user.email = caller.email;
  if (caller.avatar !== undefined) user.avatar = caller.avatar;
  return user;
}

export interface ParticipantGrant {
  user: JitsiUser;
  moderator: boolean;
}

/** Who a token request is for: the caller (jwt mode), or the body's user (AUTH_MODE=none; a guest id when it names none). */
export function requestingUser(caller: Caller | undefined, input: GenerateTokenInput): JitsiUser {
  let user: JitsiUser;
  if (caller === undefined) {
    if (input.userName === undefined) throw invalidField('userName', 'is required');
    user = { id: input.userId ?? guestId(), name: input.userName };
    if (input.userEmail !== undefined) user.email = input.userEmail;
    if (input.userAvatar !== undefined) user.avatar = input.userAvatar;
  } else {
    user = callerAsUser(
      caller,
      { id: input.userId, name: input.userName, email: input.userEmail, avatar: input.userAvatar },
      { id: 'userId', name: 'userName', email: 'userEmail', avatar: 'userAvatar' },
    );
  }
  return user;
}

/** An ad-hoc room's token: the role the body asks for, the moderator role only for callers who hold it. */
export function authorizeGenerateToken(caller: Caller | undefined, input: GenerateTokenInput): ParticipantGrant {
  const moderator = input.isModerator ?? false;
  if (caller !== undefined && moderator && !caller.isModerator) {
    throw forbidden('Only callers with the moderator role may ask for a moderator token.', 'isModerator');
  }
  return { user: requestingUser(caller, input), moderator };
}

/** A refreshed token's holder: rebuilt from the caller's claims (jwt mode), else the old token's. */
export function refreshedUser(caller: Caller | undefined, holder: JitsiUser): JitsiUser {
  if (caller === undefined) return holder;
  return callerAsUser(caller, {}, { id: 'token', name: 'token' });
}

/** Who asks about an appointment resource: the caller, or (AUTH_MODE=none) the `userId` the request names. */
export function resourceRequester(caller: Caller | undefined, userId: string | undefined): string {
  if (caller === undefined) {
    if (userId === undefined) throw invalidField('userId', 'is required without caller authentication (the id of the therapist or client asking)');
    return userId;
  }
  if (userId !== undefined && userId !== caller.id) throw forbidden("The userId must be the caller's own (or be omitted).", 'userId');
  return caller.id;
}

export interface AppointmentGrant {
  therapist: JitsiUser;
  client: JitsiUser;
}

export function authorizeCreateRoom(caller: Caller | undefined, input: CreateRoomInput): AppointmentGrant {
  const client: JitsiUser = { id: input.clientId, name: input.clientName ?? 'Client' };
  if (caller === undefined) {
    if (input.therapistId === undefined) throw invalidField('therapistId', 'is required');
    // One person cannot be both sides of an appointment (their tokens would be one identity in two roles).
    if (input.clientId === input.therapistId) throw invalidField('clientId', 'must be someone other than the therapist');
    return { therapist: { id: input.therapistId, name: input.therapistName ?? 'Therapist' }, client };
  }
  if (!caller.isModerator) throw forbidden('Only callers with the moderator role may create appointment rooms.');
  if (input.therapistId !== undefined && input.therapistId !== caller.id) {
    throw forbidden('The therapist must be the caller (or be omitted).', 'therapistId');
  }
  if (input.clientId === caller.id) throw forbidden('The client must be someone other than the caller.', 'clientId');
  const therapistName = caller.name ?? input.therapistName ?? 'Therapist';
  if (input.therapistName !== undefined && caller.name !== undefined && input.therapistName !== caller.name) {
    throw forbidden('The therapist name comes from the caller token; omit it or send the same one.', 'therapistName');
  }
  return { therapist: { id: caller.id, name: therapistName }, client };
}

/**
 * Who may refresh a token: anyone holding one of ours that is (nearly) valid; with caller
 * authentication only its own holder, and a moderator token only while the role is still held.
 */
export function authorizeRefresh(caller: Caller | undefined, verdict: Verdict): { token: VerifiedToken; holder: JitsiUser } {
  if (!verdict.valid) throw invalidField('token', `cannot be refreshed (reason: ${verdict.reason})`);
  const { token } = verdict;
  if (token.user === undefined) throw invalidField('token', 'cannot be refreshed (reason: missing_claim)');
  if (caller !== undefined) {
    if (token.user.id !== caller.id) throw forbidden('Only the holder of a token may refresh it.', 'token');
    if (token.moderator && !caller.isModerator) throw forbidden('The caller no longer holds the moderator role.', 'token');
  }
  return { token, holder: token.user };
}
