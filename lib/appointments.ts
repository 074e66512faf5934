// Appointments: who belongs to which room, when, and whether it still stands. The rules are
// small pure functions; the operations below apply them to the store and record every decision
// in the audit trail. Handlers call the operations; nothing here knows HTTP.
import type { Settings } from './config.ts';
import { AppointmentStateError, appointmentCancelled, appointmentEnded, forbidden, invalidField } from './errors.ts';
import { issueTokens, type IssuedToken, type TokenRequest } from './issue.ts';
import type { Clock, Keyring } from './keyring.ts';
import { appointmentTokenTimes, isAppointmentRoom, plannedWindow, randomAppointmentRoom, type AppointmentTokenRules } from './room.ts';
import type { Appointment, AppointmentStore, AuditAction, AuditRecord } from './store.ts';
import { hashToken, isoFromSeconds, NOT_BEFORE_SKEW_SECONDS, tokenTimesFrom, type JitsiUser, type VerifiedToken } from './token.ts';

export type MemberRole = 'therapist' | 'client';

export interface AppointmentDeps {
  settings: Settings;
  keyring: Keyring;
  store: AppointmentStore;
  clock: Clock;
}

/** What every operation knows about the request, for the audit trail. */
export interface Asking {
  /** The id of whoever asks: the caller, or the body's id with AUTH_MODE=none. */
  actor: string;
  requestId: string;
}

export const roleOf = (appointment: Appointment, userId: string): MemberRole | undefined =>
  appointment.therapistId === userId ? 'therapist' : appointment.clientId === userId ? 'client' : undefined;

/** The same answer whether the appointment exists or not: a stranger learns nothing. */
const notAMember = () => forbidden("Only the appointment's therapist and client may do this.");

const rulesOf = (settings: Settings): AppointmentTokenRules => ({
  earlyJoinMinutes: settings.appointmentEarlyJoinMinutes,
  graceMinutes: settings.appointmentGraceMinutes,
  tokenTtlMaxSeconds: settings.tokenTtlMaxSeconds,
});

/** One decision about an appointment, as the audit trail keeps it. */
export function auditRecord(
  appointment: Pick<Appointment, 'appointmentId'>,
  asking: Asking,
  at: number,
  action: AuditAction,
  extra: Partial<AuditRecord> = {},
): AuditRecord {
  return { appointmentId: appointment.appointmentId, at, action, actor: asking.actor, requestId: asking.requestId, ...extra };
}

/** The record of a move: the new start in its note. */
const movedRecord = (moved: Appointment, asking: Asking, at: number, extra: Partial<AuditRecord> = {}) =>
  auditRecord(moved, asking, at, 'moved', { ...extra, note: `starts ${isoFromSeconds(moved.startsAt)}` });

/** Records a refusal for an appointment that exists, then throws it. */
async function refuse(deps: AppointmentDeps, appointment: Appointment, asking: Asking, error: Error, note: string): Promise<never> {
  await deps.store.audit([auditRecord(appointment, asking, deps.clock.nowSeconds(), 'refused', { note })]);
  throw error;
}

/** A member's role, or the refusal (recorded) for anyone else. */
async function memberRole(deps: AppointmentDeps, appointment: Appointment, asking: Asking, userId: string): Promise<MemberRole> {
  const role = roleOf(appointment, userId);
  if (role === undefined) return refuse(deps, appointment, asking, notAMember(), 'not_a_member');
  return role;
}

/** A cancelled appointment gets no further token, refresh or room. */
async function requireScheduled(deps: AppointmentDeps, appointment: Appointment, asking: Asking): Promise<void> {
  if (appointment.status === 'cancelled') {
    await refuse(deps, appointment, asking, appointmentCancelled(), 'cancelled');
  }
}

export interface Schedule {
  startMs: number;
  durationMinutes: number;
}

function scheduled(base: Omit<Appointment, 'startsAt' | 'durationMinutes' | 'opensAt' | 'closesAt'>, schedule: Schedule, deps: AppointmentDeps): Appointment {
  const window = plannedWindow(deps.clock.nowSeconds(), schedule.startMs, schedule.durationMinutes, rulesOf(deps.settings));
  return { ...base, startsAt: Math.floor(schedule.startMs / 1000), durationMinutes: schedule.durationMinutes, ...window };
}

const sameSchedule = (a: Appointment, b: Appointment) => a.startsAt === b.startsAt && a.durationMinutes === b.durationMinutes;

/** Tokens for members of an appointment, in its window, recorded with their hashes. */
async function issueForMembers(
  deps: AppointmentDeps,
  appointment: Appointment,
  asking: Asking,
  members: readonly { user: JitsiUser; role: MemberRole }[],
  extra: AuditRecord[] = [],
): Promise<IssuedToken[]> {
  const now = deps.clock.nowSeconds();
  const times = appointmentTokenTimes(now, appointment);
  const requests: TokenRequest[] = members.map(({ user, role }) => ({
    room: appointment.room,
    tenant: appointment.tenant,
    user,
    moderator: role === 'therapist',
    times,
    appointmentVersion: appointment.version,
  }));
  const tokens = await issueTokens(deps.keyring, deps.settings, requests);
  // The decision is recorded before any token leaves: no record, no token.
  await deps.store.audit([
    ...extra,
    ...tokens.map((token, index) => auditRecord(appointment, asking, now, 'token-issued', { role: members[index]!.role, tokenHash: hashToken(token.token) })),
  ]);
  return tokens;
}

export interface Registration {
  appointmentId: string;
  tenant: string | undefined;
  therapist: JitsiUser;
  client: JitsiUser;
  schedule: Schedule;
}

/**
 * create-room: the first call registers the appointment (the caller is its therapist); the same
 * therapist calling again gets the same room, and a new time moves it. Two concurrent first
 * calls make one appointment: the store's conditional write lets one win, the other re-reads.
 */
export async function registerAppointment(
  deps: AppointmentDeps,
  registration: Registration,
  asking: Asking,
): Promise<{ appointment: Appointment; tokens: IssuedToken[] }> {
  const { store, clock, settings } = deps;
  const now = clock.nowSeconds();
  const requested = scheduled(
    {
      appointmentId: registration.appointmentId,
      tenant: registration.tenant,
      therapistId: registration.therapist.id,
      clientId: registration.client.id,
      status: 'scheduled',
      version: 1,
      room: randomAppointmentRoom(settings.roomPrefix),
      createdAt: now,
      updatedAt: now,
    },
    registration.schedule,
    deps,
  );
  let existing = await store.get(registration.appointmentId);
  const events: AuditRecord[] = [];
  if (existing === undefined) {
    if (await store.create(requested)) {
      existing = requested;
      events.push(auditRecord(requested, asking, now, 'created'));
    } else {
      existing = await store.get(registration.appointmentId);
      if (existing === undefined) throw new AppointmentStateError('conflict', 'The appointment changed while it was being registered; retry.');
    }
  }
  let appointment = existing;
  if (appointment.therapistId !== registration.therapist.id) throw notAMember();
  await requireScheduled(deps, appointment, asking);
  if (appointment.clientId !== registration.client.id) {
    await refuse(
      deps,
      appointment,
      asking,
      new AppointmentStateError('conflict', 'This appointment is registered with another client.', 'clientId'),
      'other_client',
    );
  }
  if (appointment.tenant !== registration.tenant) {
    await refuse(
      deps,
      appointment,
      asking,
      new AppointmentStateError('conflict', 'This appointment is registered for another tenant.', 'tenant'),
      'other_tenant',
    );
  }
  if (!sameSchedule(appointment, requested)) {
    appointment = await replace(deps, appointment, { ...requested, room: appointment.room, createdAt: appointment.createdAt, status: 'scheduled' });
    events.push(movedRecord(appointment, asking, now));
  }
  const tokens = await issueForMembers(
    deps,
    appointment,
    asking,
    [
      { user: registration.therapist, role: 'therapist' },
      { user: registration.client, role: 'client' },
    ],
    events,
  );
  return { appointment, tokens };
}

/** Writes a new version of the appointment; a concurrent change wins and this one is refused. */
async function replace(deps: AppointmentDeps, current: Appointment, next: Appointment): Promise<Appointment> {
  const updated = { ...next, version: current.version + 1, updatedAt: deps.clock.nowSeconds() };
  if (!(await deps.store.replace(updated, current.version))) {
    throw new AppointmentStateError('conflict', 'The appointment changed meanwhile; read it again and retry.');
  }
  return updated;
}

/**
 * Which appointment a token request is about, or undefined for an ad-hoc room. An appointment
 * id that is registered decides (room and window from the store); a room name with the
 * appointment prefix must belong to a registered appointment.
 */
export async function appointmentForRequest(
  deps: AppointmentDeps,
  request: { appointmentId?: string | undefined; roomName?: string | undefined },
): Promise<Appointment | undefined> {
  const { store, settings } = deps;
  if (request.appointmentId !== undefined) {
    const appointment = await store.get(request.appointmentId);
    if (appointment !== undefined) {
      // Another appointment's room named beside this appointment's id is never a way in.
      if (request.roomName !== undefined && request.roomName !== appointment.room && isAppointmentRoom(request.roomName, settings.roomPrefix))
        throw notAMember();
      return appointment;
    }
    if (request.roomName === undefined) throw notAMember();
  }
  const roomName = request.roomName;
  if (roomName === undefined) throw invalidField('roomName', 'is required (or name a registered appointmentId)');
  if (isAppointmentRoom(roomName, settings.roomPrefix)) {
    const appointment = await store.getByRoom(roomName);
    if (appointment === undefined) throw notAMember();
    return appointment;
  }
  if (!settings.adhocRooms) throw forbidden('This deployment issues tokens for appointment rooms only.', 'roomName');
  return undefined;
}

/** generate-token for an appointment: the member's own token, role and window from the store. */
export async function memberToken(
  deps: AppointmentDeps,
  appointment: Appointment,
  user: JitsiUser,
  askedModerator: boolean | undefined,
  asking: Asking,
): Promise<IssuedToken> {
  const role = await memberRole(deps, appointment, asking, user.id);
  await requireScheduled(deps, appointment, asking);
  if (askedModerator !== undefined && askedModerator !== (role === 'therapist')) {
    await refuse(
      deps,
      appointment,
      asking,
      forbidden('The role comes from the appointment: the therapist moderates, the client participates.', 'isModerator'),
      'role_mismatch',
    );
  }
  const [token] = await issueForMembers(deps, appointment, asking, [{ user, role }]);
  return token!;
}

/** The lifetime a token was issued with: refresh keeps it. */
const lifetimeOf = (token: VerifiedToken): number => token.expiresAt - (token.issuedAt ?? (token.notBefore ?? token.expiresAt) + NOT_BEFORE_SKEW_SECONDS);

/**
 * refresh-token: the same lifetime as the old token, never past the appointment's end (or an
 * ad-hoc session's maximum length from its first issue), for a member of a scheduled
 * appointment whose token was issued for its current time.
 */
export async function refreshToken(deps: AppointmentDeps, old: VerifiedToken, user: JitsiUser, asking: Asking): Promise<IssuedToken> {
  const { settings, clock, store } = deps;
  const now = clock.nowSeconds();
  const lifetime = Math.max(60, lifetimeOf(old));
  const sessionStart = old.sessionStart ?? old.issuedAt ?? now;
  const request = { room: old.room, tenant: old.sub === settings.sub ? undefined : old.sub, user, moderator: old.moderator, sessionStart };
  if (!isAppointmentRoom(old.room, settings.roomPrefix)) {
    if (!settings.adhocRooms) throw forbidden('This deployment issues tokens for appointment rooms only.', 'token');
    const sessionEnd = sessionStart + settings.adhocSessionMaxMinutes * 60;
    if (now + 60 >= sessionEnd) throw invalidField('token', 'cannot be refreshed: the session has reached its maximum length');
    const [token] = await issueTokens(deps.keyring, settings, [{ ...request, times: tokenTimesFrom(now, Math.min(lifetime, sessionEnd - now)) }]);
    return token!;
  }
  const appointment = await store.getByRoom(old.room);
  if (appointment === undefined) throw notAMember();
  const role = await memberRole(deps, appointment, asking, user.id);
  await requireScheduled(deps, appointment, asking);
  if ((role === 'therapist') !== old.moderator) await refuse(deps, appointment, asking, notAMember(), 'role_mismatch');
  if (old.appointmentVersion !== appointment.version) {
    await refuse(
      deps,
      appointment,
      asking,
      new AppointmentStateError('moved', 'This token was issued for another time of the appointment: ask for a new one.', 'token'),
      'moved',
    );
  }
  if (appointment.closesAt <= now) await refuse(deps, appointment, asking, appointmentEnded(), 'ended');
  const times = tokenTimesFrom(now, Math.min(lifetime, appointment.closesAt - now));
  const [token] = await issueTokens(deps.keyring, settings, [{ ...request, tenant: appointment.tenant, times, appointmentVersion: appointment.version }]);
  await store.audit([auditRecord(appointment, asking, now, 'token-refreshed', { role, tokenHash: hashToken(token!.token) })]);
  return token!;
}

/** The appointment a member asks about; the same refusal for strangers and for unknown ids. */
export async function appointmentOfMember(
  deps: AppointmentDeps,
  appointmentId: string,
  userId: string,
  needs: MemberRole | 'member',
): Promise<{ appointment: Appointment; role: MemberRole }> {
  const appointment = await deps.store.get(appointmentId);
  const role = appointment === undefined ? undefined : roleOf(appointment, userId);
  if (appointment === undefined || role === undefined || (needs !== 'member' && role !== needs)) throw notAMember();
  return { appointment, role };
}

/** Cancel: no token is issued or refreshed for it afterwards. Cancelling twice is harmless. */
export async function cancelAppointment(deps: AppointmentDeps, appointmentId: string, asking: Asking): Promise<Appointment> {
  const { appointment } = await appointmentOfMember(deps, appointmentId, asking.actor, 'therapist');
  if (appointment.status === 'cancelled') return appointment;
  const cancelled = await replace(deps, appointment, { ...appointment, status: 'cancelled' });
  await deps.store.audit([auditRecord(cancelled, asking, deps.clock.nowSeconds(), 'cancelled', { role: 'therapist' })]);
  return cancelled;
}

/** Move: a new window; tokens issued for the old one can no longer be refreshed. */
export async function moveAppointment(deps: AppointmentDeps, appointmentId: string, schedule: Schedule, asking: Asking): Promise<Appointment> {
  const { appointment } = await appointmentOfMember(deps, appointmentId, asking.actor, 'therapist');
  await requireScheduled(deps, appointment, asking);
  const next = scheduled(appointment, schedule, deps);
  if (sameSchedule(appointment, next)) return appointment;
  const moved = await replace(deps, appointment, next);
  await deps.store.audit([movedRecord(moved, asking, deps.clock.nowSeconds(), { role: 'therapist' })]);
  return moved;
}

/** What members may read of an appointment: ids, times and its state. */
export function appointmentView(appointment: Appointment, role: MemberRole): Record<string, unknown> {
  return {
    appointmentId: appointment.appointmentId,
    status: appointment.status,
    role,
    scheduledStartTime: isoFromSeconds(appointment.startsAt),
    durationMinutes: appointment.durationMinutes,
    windowOpensAt: isoFromSeconds(appointment.opensAt),
    windowClosesAt: isoFromSeconds(appointment.closesAt),
    version: appointment.version,
  };
}

/**
 * validate-token's view of an appointment room's token: a cancelled appointment's token is not
 * valid; its holder's id, room and role are told to the holder and the therapist only.
 */
export async function tokenStanding(
  deps: AppointmentDeps,
  token: VerifiedToken,
  askerId: string | undefined,
): Promise<{ cancelled: boolean; mayShowIdentity: boolean }> {
  const isHolder = askerId === undefined || token.user?.id === askerId;
  if (!isAppointmentRoom(token.room, deps.settings.roomPrefix)) return { cancelled: false, mayShowIdentity: isHolder };
  const appointment = await deps.store.getByRoom(token.room);
  return {
    cancelled: appointment?.status === 'cancelled',
    mayShowIdentity: isHolder || (appointment !== undefined && appointment.therapistId === askerId),
  };
}
