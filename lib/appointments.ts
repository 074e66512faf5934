// Appointments: who belongs to which room, when, and whether it still stands. The rules are
// small pure functions; the operations below apply them through lib/history.ts, which writes
// each decision and its audit records as one event of the appointment's history. Nothing here
// knows HTTP.
import { AppointmentStateError, appointmentCancelled, appointmentEnded, forbidden, invalidField } from './errors.ts';
import {
  decideAndRecord,
  derivedSecret,
  type Asking,
  type HistoryDeps,
  type Member,
  Refusal,
  recordRefusal,
  replayOf,
  requestKeyOf,
  signForMembers,
} from './history.ts';
import { issueTokens, type IssuedToken } from './issue.ts';
import { appointmentRoomName, appointmentTokenTimes, isAppointmentRoom, plannedWindow, type AppointmentTokenRules } from './room.ts';
import type { Appointment, AppointmentEvent, AuditAction, AuditRecord, Grant } from './store.ts';
import { hashToken, isoFromSeconds, NOT_BEFORE_SKEW_SECONDS, tokenTimesFrom, type JitsiUser, type VerifiedToken } from './token.ts';

export type { Asking } from './history.ts';
export type MemberRole = 'therapist' | 'client';

export const roleOf = (appointment: Appointment, userId: string): MemberRole | undefined =>
  appointment.therapistId === userId ? 'therapist' : appointment.clientId === userId ? 'client' : undefined;

/** The same answer whether the appointment exists or not: a stranger learns nothing. */
const notAMember = () => forbidden("Only the appointment's therapist and client may do this.");

const rulesOf = (settings: HistoryDeps['settings']): AppointmentTokenRules => ({
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

/** The appointment's current state: its newest event's. */
export const currentState = (history: readonly AppointmentEvent[]): Appointment | undefined => history[0]?.state;

/** A member's role, or the refusal for anyone else. */
function memberRole(appointment: Appointment, userId: string): MemberRole {
  const role = roleOf(appointment, userId);
  if (role === undefined) throw new Refusal(notAMember(), 'not_a_member');
  return role;
}

/** A cancelled appointment gets no further token, refresh or room. */
function requireScheduled(appointment: Appointment, role?: MemberRole): void {
  if (appointment.status === 'cancelled') throw new Refusal(appointmentCancelled(), 'cancelled', role);
}

/** Token times for the window (a requested lifetime shortens them), or the refusal once it has ended. */
function windowGrant(now: number, appointment: Appointment, role: MemberRole, lifetimeSeconds?: number): Grant {
  try {
    return appointmentTokenTimes(now, appointment, lifetimeSeconds);
  } catch (error) {
    throw new Refusal(error as Error, 'ended', role);
  }
}

export interface Schedule {
  startMs: number;
  durationMinutes: number;
}

function scheduled(base: Omit<Appointment, 'startsAt' | 'durationMinutes' | 'opensAt' | 'closesAt'>, schedule: Schedule, deps: HistoryDeps): Appointment {
  const window = plannedWindow(deps.clock.nowSeconds(), schedule.startMs, schedule.durationMinutes, rulesOf(deps.settings));
  // A new time is a new session: an outcome told for the old window does not carry over.
  return { ...base, startsAt: Math.floor(schedule.startMs / 1000), durationMinutes: schedule.durationMinutes, ...window, outcome: undefined };
}

const sameSchedule = (a: Appointment, b: Appointment) => a.startsAt === b.startsAt && a.durationMinutes === b.durationMinutes;

/** A new version of the appointment (time or status changed). */
const nextVersion = (current: Appointment, next: Appointment, now: number): Appointment => ({ ...next, version: current.version + 1, updatedAt: now });

/** Tokens for members, and their records: the event a token decision writes. */
async function tokensFor(
  deps: HistoryDeps,
  state: Appointment,
  asking: Asking,
  members: readonly Member[],
  grants: readonly Grant[],
  action: 'token-issued' | 'token-refreshed' = 'token-issued',
): Promise<{ tokens: IssuedToken[]; records: AuditRecord[] }> {
  const tokens = await signForMembers(deps, state, members, grants);
  const records = tokens.map((token, index) =>
    auditRecord(state, asking, grants[index]!.issuedAt, action, { role: members[index]!.role, tokenHash: hashToken(token.token) }),
  );
  return { tokens, records };
}

/** A retry of the same request: the first call's answer, re-signed from the times its event kept. */
async function replayTokens(deps: HistoryDeps, event: AppointmentEvent, members: readonly Member[]): Promise<IssuedToken[]> {
  return signForMembers(deps, event.state, members, event.grants ?? []);
}

export interface Registration {
  appointmentId: string;
  tenant: string | undefined;
  therapist: JitsiUser;
  client: JitsiUser;
  schedule: Schedule;
}

/** An appointment's room, derived from the signing key so a retried creation gets the same one. */
async function appointmentRoom(deps: HistoryDeps, registration: Registration): Promise<string> {
  const bits = await derivedSecret(deps.keyring, 'appointment-room', registration.appointmentId, registration.tenant ?? null, registration.therapist.id);
  return appointmentRoomName(deps.settings.roomPrefix, bits);
}

/**
 * create-room: the first call registers the appointment (the caller is its therapist); the same
 * therapist calling again gets the same room, and a new time moves it. Creation, move and both
 * tokens are one event; two concurrent first calls make one appointment (one wins the place,
 * the other decides again on what it wrote).
 */
export async function registerAppointment(
  deps: HistoryDeps,
  registration: Registration,
  asking: Asking,
): Promise<{ appointment: Appointment; tokens: IssuedToken[] }> {
  const members: Member[] = [
    { user: registration.therapist, role: 'therapist' },
    { user: registration.client, role: 'client' },
  ];
  const requestKey = requestKeyOf('register', asking.actor, registration);
  const registered = await decideAndRecord(deps, registration.appointmentId, asking, async (history) => {
    const now = deps.clock.nowSeconds();
    const replay = replayOf(history, requestKey, now);
    if (replay !== undefined) return { result: { appointment: replay.state, tokens: await replayTokens(deps, replay, members) }, replayed: replay };
    const current = currentState(history);
    const records: AuditRecord[] = [];
    let state: Appointment;
    if (current === undefined) {
      const room = await appointmentRoom(deps, registration);
      state = scheduled(
        {
          appointmentId: registration.appointmentId,
          tenant: registration.tenant,
          therapistId: registration.therapist.id,
          clientId: registration.client.id,
          status: 'scheduled',
          version: 1,
          room,
          createdAt: now,
          updatedAt: now,
        },
        registration.schedule,
        deps,
      );
      // The pointer before the event: a failure between them leaves a pointer the retry writes again.
      if (!(await deps.store.rooms.point(room, state.appointmentId, state.closesAt + deps.settings.auditRetentionDays * 86_400))) {
        throw new AppointmentStateError('conflict', 'The appointment changed while it was being registered; retry.');
      }
      records.push(auditRecord(state, asking, now, 'created'));
    } else {
      if (current.therapistId !== registration.therapist.id) throw new Refusal(notAMember(), 'not_the_therapist', roleOf(current, asking.actor));
      requireScheduled(current, 'therapist');
      if (current.clientId !== registration.client.id) {
        throw new Refusal(
          new AppointmentStateError('conflict', 'This appointment is registered with another client.', 'clientId'),
          'other_client',
          'therapist',
        );
      }
      if (current.tenant !== registration.tenant) {
        throw new Refusal(new AppointmentStateError('conflict', 'This appointment is registered for another tenant.', 'tenant'), 'other_tenant', 'therapist');
      }
      const requested = scheduled(current, registration.schedule, deps);
      state = current;
      if (!sameSchedule(current, requested)) {
        state = nextVersion(current, requested, now);
        records.push(movedRecord(state, asking, now));
      }
    }
    const grant = windowGrant(now, state, 'therapist');
    const grants = [grant, grant];
    const issued = await tokensFor(deps, state, asking, members, grants);
    return {
      result: { appointment: state, tokens: issued.tokens },
      event: { state, records: [...records, ...issued.records], requestKey, grants },
    };
  });
  // The session's outcome is told once its window closes, also when nobody ever comes (idempotent).
  await deps.store.attendance.awaitOutcome(registered.appointment.appointmentId, registered.appointment.closesAt);
  return registered;
}

/** An appointment a token request names: its id and the history read to find it. */
export interface FoundAppointment {
  appointmentId: string;
  history: AppointmentEvent[];
}

/**
 * Which appointment a token request is about, or undefined for an ad-hoc room. An appointment
 * id that is registered decides (room and window from the store); a room name with the
 * appointment prefix must belong to a registered appointment.
 */
export async function appointmentForRequest(
  deps: HistoryDeps,
  request: { appointmentId?: string | undefined; roomName?: string | undefined },
  asking: Asking,
): Promise<FoundAppointment | undefined> {
  const { store, settings } = deps;
  if (request.appointmentId !== undefined) {
    const history = await store.appointments.recent(request.appointmentId);
    const appointment = currentState(history);
    const role = appointment === undefined ? undefined : roleOf(appointment, asking.actor);
    if (appointment !== undefined && role !== undefined) {
      // Another appointment's room named beside this appointment's id is never a way in.
      if (request.roomName !== undefined && request.roomName !== appointment.room && isAppointmentRoom(request.roomName, settings.roomPrefix)) {
        return recordRefusal(deps, appointment.appointmentId, asking, new Refusal(notAMember(), 'other_room', role), true);
      }
      return { appointmentId: appointment.appointmentId, history };
    }
    // A stranger's id, known or not, gets the same store calls and the same answer: with a room
    // named, the room decides (as for any request); without one, a refusal (counted if the id exists).
    if (request.roomName === undefined)
      return recordRefusal(deps, request.appointmentId, asking, new Refusal(notAMember(), 'not_a_member'), appointment !== undefined);
  }
  const roomName = request.roomName;
  if (roomName === undefined) throw invalidField('roomName', 'is required (or name a registered appointmentId)');
  if (isAppointmentRoom(roomName, settings.roomPrefix)) {
    const found = await appointmentByRoom(deps, roomName);
    if (found === undefined) throw notAMember();
    return found;
  }
  if (!settings.adhocRooms) throw forbidden('This deployment issues tokens for appointment rooms only.', 'roomName');
  return undefined;
}

/** The appointment whose room this is (a pointer left by an unfinished creation names an appointment with another room: none). */
export async function appointmentByRoom(deps: HistoryDeps, room: string): Promise<FoundAppointment | undefined> {
  const appointmentId = await deps.store.rooms.lookup(room);
  if (appointmentId === undefined) return undefined;
  const history = await deps.store.appointments.recent(appointmentId);
  return currentState(history)?.room === room ? { appointmentId, history } : undefined;
}

/** generate-token for an appointment: the member's own token, role and window from the store; a requested lifetime shortens it. */
export async function memberToken(
  deps: HistoryDeps,
  found: FoundAppointment,
  user: JitsiUser,
  askedModerator: boolean | undefined,
  asking: Asking,
  lifetimeSeconds?: number,
): Promise<IssuedToken> {
  const requestKey = requestKeyOf('member-token', asking.actor, found.appointmentId, user, askedModerator ?? null, lifetimeSeconds ?? null);
  return decideAndRecord(
    deps,
    found.appointmentId,
    asking,
    async (history) => {
      const now = deps.clock.nowSeconds();
      const appointment = currentState(history);
      if (appointment === undefined) throw new Refusal(notAMember(), 'not_a_member');
      const role = memberRole(appointment, user.id);
      const members = [{ user, role }];
      const replay = replayOf(history, requestKey, now);
      if (replay !== undefined) return { result: (await replayTokens(deps, replay, members))[0]!, replayed: replay };
      requireScheduled(appointment, role);
      // The role comes from the appointment: `false` is no preference (the original client sends it
      // whenever the flag is not true), `true` from the client is asking for what it may not have.
      if (askedModerator === true && role !== 'therapist') {
        throw new Refusal(
          forbidden('The role comes from the appointment: the therapist moderates, the client participates.', 'isModerator'),
          'role_mismatch',
          role,
        );
      }
      const grants = [windowGrant(now, appointment, role, lifetimeSeconds)];
      const issued = await tokensFor(deps, appointment, asking, members, grants);
      return { result: issued.tokens[0]!, event: { state: appointment, records: issued.records, requestKey, grants } };
    },
    found.history,
  );
}

/**
 * The lifetime a token was granted: from when it became usable (nbf + skew; an appointment token
 * asked for before its window counts from the window's opening) to its expiry. Refresh keeps it.
 */
const lifetimeOf = (token: VerifiedToken): number =>
  token.expiresAt - (token.notBefore !== undefined ? token.notBefore + NOT_BEFORE_SKEW_SECONDS : (token.issuedAt ?? token.expiresAt));

/**
 * refresh-token: the same lifetime as the old token, never past the appointment's end (or an
 * ad-hoc session's maximum length from its first issue), for a member of a scheduled
 * appointment whose token was issued for its current time.
 */
export async function refreshToken(deps: HistoryDeps, old: VerifiedToken, user: JitsiUser, asking: Asking): Promise<IssuedToken> {
  const { settings, clock } = deps;
  const lifetime = Math.max(60, lifetimeOf(old));
  const sessionStart = old.sessionStart ?? old.issuedAt ?? clock.nowSeconds();
  const tenant = old.sub === settings.sub ? undefined : old.sub;
  if (!isAppointmentRoom(old.room, settings.roomPrefix)) {
    const now = clock.nowSeconds();
    if (!settings.adhocRooms) throw forbidden('This deployment issues tokens for appointment rooms only.', 'token');
    const sessionEnd = sessionStart + settings.adhocSessionMaxMinutes * 60;
    if (now + 60 >= sessionEnd) throw invalidField('token', 'cannot be refreshed: the session has reached its maximum length');
    const times = tokenTimesFrom(now, Math.min(lifetime, sessionEnd - now));
    const [token] = await issueTokens(deps.keyring, settings, [{ room: old.room, tenant, user, moderator: old.moderator, sessionStart, times }]);
    return token!;
  }
  const found = await appointmentByRoom(deps, old.room);
  if (found === undefined) throw notAMember();
  const requestKey = requestKeyOf('refresh', asking.actor, old.room, old.issuedAt ?? null, old.expiresAt, old.appointmentVersion ?? null, user);
  return decideAndRecord(
    deps,
    found.appointmentId,
    asking,
    async (history) => {
      const now = clock.nowSeconds();
      const appointment = currentState(history)!;
      const role = memberRole(appointment, user.id);
      const sign = (grant: Grant) =>
        issueTokens(deps.keyring, settings, [
          { room: old.room, tenant: appointment.tenant, user, moderator: old.moderator, sessionStart, times: grant, appointmentVersion: appointment.version },
        ]);
      const replay = replayOf(history, requestKey, now);
      if (replay?.grants?.[0] !== undefined) return { result: (await sign(replay.grants[0]))[0]!, replayed: replay };
      requireScheduled(appointment, role);
      if ((role === 'therapist') !== old.moderator) throw new Refusal(notAMember(), 'role_mismatch', role);
      if (old.appointmentVersion !== appointment.version) {
        throw new Refusal(
          new AppointmentStateError('moved', 'This token was issued for another time of the appointment: ask for a new one.', 'token'),
          'moved',
          role,
        );
      }
      if (appointment.closesAt <= now) throw new Refusal(appointmentEnded(), 'ended', role);
      const grant = tokenTimesFrom(now, Math.min(lifetime, appointment.closesAt - now));
      const [token] = await sign(grant);
      return {
        result: token!,
        event: {
          state: appointment,
          records: [auditRecord(appointment, asking, now, 'token-refreshed', { role, tokenHash: hashToken(token!.token) })],
          requestKey,
          grants: [grant],
        },
      };
    },
    found.history,
  );
}

/**
 * The appointment a member asks about. Strangers and unknown ids get the same answer after the
 * same store calls; a refusal of an appointment that exists is recorded.
 */
export async function appointmentOfMember(
  deps: HistoryDeps,
  appointmentId: string,
  asking: Asking,
  needs: MemberRole | 'member',
): Promise<{ appointment: Appointment; role: MemberRole; history: AppointmentEvent[] }> {
  const history = await deps.store.appointments.recent(appointmentId);
  const appointment = currentState(history);
  const role = appointment === undefined ? undefined : roleOf(appointment, asking.actor);
  if (appointment === undefined || role === undefined || (needs !== 'member' && role !== needs)) {
    // A member already knows the appointment exists: it may be told what it lacks.
    const error = role === undefined ? notAMember() : forbidden(`Only the appointment's ${needs} may do this.`);
    return recordRefusal(
      deps,
      appointmentId,
      asking,
      new Refusal(error, role === undefined ? 'not_a_member' : `not_the_${needs}`, role),
      appointment !== undefined,
    );
  }
  return { appointment, role, history };
}

/** A change only the therapist makes: decided on the newest state, written with its record. */
function therapistChange(
  deps: HistoryDeps,
  appointmentId: string,
  asking: Asking,
  change: (appointment: Appointment, now: number) => { state: Appointment; record: AuditRecord } | undefined,
): Promise<Appointment> {
  return decideAndRecord(deps, appointmentId, asking, async (history) => {
    const appointment = currentState(history);
    const role = appointment === undefined ? undefined : roleOf(appointment, asking.actor);
    if (appointment === undefined || role !== 'therapist') throw new Refusal(notAMember(), role === undefined ? 'not_a_member' : 'not_the_therapist', role);
    const decided = change(appointment, deps.clock.nowSeconds());
    if (decided === undefined) return { result: appointment };
    return { result: decided.state, event: { state: decided.state, records: [decided.record] } };
  });
}

/** Cancel: no token is issued or refreshed for it afterwards. Cancelling twice is harmless (the second changes nothing). */
export function cancelAppointment(deps: HistoryDeps, appointmentId: string, asking: Asking): Promise<Appointment> {
  return therapistChange(deps, appointmentId, asking, (appointment, now) => {
    if (appointment.status === 'cancelled') return undefined;
    const state = nextVersion(appointment, { ...appointment, status: 'cancelled' }, now);
    return { state, record: auditRecord(state, asking, now, 'cancelled', { role: 'therapist' }) };
  });
}

/** Move: a new window; tokens issued for the old one can no longer be refreshed. Moving to the same time changes nothing. */
export async function moveAppointment(deps: HistoryDeps, appointmentId: string, schedule: Schedule, asking: Asking): Promise<Appointment> {
  const moved = await therapistChange(deps, appointmentId, asking, (appointment, now) => {
    requireScheduled(appointment, 'therapist');
    const next = scheduled(appointment, schedule, deps);
    if (sameSchedule(appointment, next)) return undefined;
    const state = nextVersion(appointment, next, now);
    return { state, record: movedRecord(state, asking, now, { role: 'therapist' }) };
  });
  // The room pointer lives as long as the moved window needs it (written again, harmlessly, on a retry).
  await deps.store.rooms.point(moved.room, moved.appointmentId, moved.closesAt + deps.settings.auditRetentionDays * 86_400);
  await deps.store.attendance.awaitOutcome(moved.appointmentId, moved.closesAt);
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
 * valid, nor one issued for an earlier time of a moved appointment; its holder's id, room and
 * role are told to the holder and the therapist only.
 */
export async function tokenStanding(
  deps: HistoryDeps,
  token: VerifiedToken,
  askerId: string | undefined,
): Promise<{ cancelled: boolean; moved: boolean; mayShowIdentity: boolean }> {
  const isHolder = askerId === undefined || token.user?.id === askerId;
  if (!isAppointmentRoom(token.room, deps.settings.roomPrefix)) return { cancelled: false, moved: false, mayShowIdentity: isHolder };
  const found = await appointmentByRoom(deps, token.room);
  const appointment = found === undefined ? undefined : currentState(found.history);
  return {
    cancelled: appointment?.status === 'cancelled',
    moved: token.appointmentVersion !== undefined && appointment !== undefined && token.appointmentVersion !== appointment.version,
    mayShowIdentity: isHolder || (appointment !== undefined && appointment.therapistId === askerId),
  };
}
