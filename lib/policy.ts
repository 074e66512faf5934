// Who may get which token. With AUTH_MODE=jwt the caller is who the API Gateway JWT authorizer
// says it is; the body may only repeat that, never change it.
import { randomBytes } from 'node:crypto';
import type { AuthMode } from './config.ts';
import { forbidden, invalidField, unauthenticated } from './errors.ts';
import type { CreateRoomInput, GenerateTokenInput } from './requests.ts';
import { parseText } from './schema.ts';
import type { JitsiUser, Verdict, VerifiedToken } from './token.ts';

export interface PolicySettings {
  authMode: AuthMode;
  moderatorClaim: string;
  moderatorValues: readonly string[];
}

export interface Caller {
  id: string;
  name: string | undefined;
  email: string | undefined;
  isModerator: boolean;
}

/** The claims API Gateway hands a function: strings, numbers, booleans, sometimes arrays. */
export type CallerClaims = Readonly<Record<string, unknown>>;

interface EventWithAuthorizer {
  requestContext?: object;
}

/**
 * A role claim may be an array, a plain or comma/space-separated string, or the bracketed
 * string API Gateway's HTTP API makes of an array claim, e.g. "[therapists admins]".
 */
export function claimValues(claim: unknown): string[] {
  if (Array.isArray(claim)) return claim.filter((item): item is string => typeof item === 'string');
  if (typeof claim !== 'string') return [];
  const inner = claim.startsWith('[') && claim.endsWith(']') ? claim.slice(1, -1) : claim;
  return inner.split(/[\s,]+/).filter((item) => item !== '');
}

function safeDisplayName(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    return parseText(value, 'name', { maxChars: 128, maxBytes: 512, humanText: true }, 'a display name');
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
  if (!claims || typeof claims.sub !== 'string' || claims.sub === '') {
    throw unauthenticated('A valid caller token (Authorization: Bearer) is required.');
  }
  const roles = claimValues(claims[settings.moderatorClaim]);
  return {
    id: claims.sub,
    name: nameFromClaims(claims),
    email: typeof claims.email === 'string' && claims.email !== '' ? claims.email : undefined,
    isModerator: roles.some((role) => settings.moderatorValues.includes(role)),
  };
}

function guestId(): string {
  return `guest-${randomBytes(9).toString('base64url')}`;
}

function sameEmail(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** The identity a body names must be the caller's own; what it leaves out comes from the claims. */
function callerAsUser(caller: Caller, body: { id?: string; name?: string; email?: string }, fields: { id: string; name: string; email?: string }): JitsiUser {
  if (body.id !== undefined && body.id !== caller.id) throw forbidden("The id must be the caller's own (or be omitted).", fields.id);
  if (body.email !== undefined && (caller.email === undefined || !sameEmail(body.email, caller.email))) {
    throw forbidden("The email must be the caller's own (or be omitted).", fields.email);
  }
  if (body.name !== undefined && caller.name !== undefined && body.name !== caller.name) {
    throw forbidden('The display name comes from the caller token; omit it or send the same one.', fields.name);
  }
  const name = caller.name ?? body.name;
  if (name === undefined) throw invalidField(fields.name, 'is required when the caller token has no name claim');
  const user: JitsiUser = { id: caller.id, name };
  if (caller.email !== undefined) user.email = caller.email;
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
  } else {
    user = callerAsUser(caller, { id: input.userId, name: input.userName, email: input.userEmail }, { id: 'userId', name: 'userName', email: 'userEmail' });
  }
  if (input.userAvatar !== undefined) user.avatar = input.userAvatar;
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
  const user: JitsiUser = { id: caller.id, name: caller.name ?? holder.name };
  if (caller.email !== undefined) user.email = caller.email;
  return user;
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
