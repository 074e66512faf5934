// What happens inside the room, as Prosody's event sync component reports it: rooms created and
// destroyed, occupants joining and leaving. An appointment's room gets its attendance recorded
// (ids and times only: the payload's names and emails are never read into anything kept), and
// the platform is told; an ad-hoc room's events are only counted. Prosody retries and may
// deliver twice or out of order, so every write is an upsert keyed by the occupant's address and
// every platform event has an id that repeats with the delivery.
import { summarizeAttendance, type Attendance, type AttendanceStatus } from './attendance.ts';
import { appointmentByRoom, auditRecord, currentState, roleOf } from './appointments.ts';
import { decideAndRecord, requestKeyOf, type HistoryDeps } from './history.ts';
import { platformEventId } from './platform-events.ts';
import type { JitsiEventInput, ReportedOccupant } from './requests.ts';
import { CONFERENCE_NAME } from './requests.ts';
import { isAppointmentRoom } from './room.ts';
import type { Appointment, SessionOutcome } from './store.ts';
import { isoFromSeconds } from './token.ts';

export type JitsiEventKind = 'room-created' | 'room-destroyed' | 'occupant-joined' | 'occupant-left';

/** Prosody's id in the audit trail for what its event sync component reported. */
const JITSI_ACTOR = 'jitsi';

/** The appointment a room event is about, or undefined for an ad-hoc (or unknown) room. */
async function appointmentOfRoom(deps: HistoryDeps, roomName: string): Promise<Appointment | undefined> {
  const [, tenant, room] = CONFERENCE_NAME.exec(roomName) ?? [];
  if (room === undefined || !isAppointmentRoom(room, deps.settings.roomPrefix)) return undefined;
  const found = await appointmentByRoom(deps, room);
  const appointment = found === undefined ? undefined : currentState(found.history);
  return appointment?.tenant === tenant ? appointment : undefined;
}

/** The attendee's part: therapist, client, or someone the appointment does not name. */
const partOf = (appointment: Appointment, userId: string | undefined) => (userId === undefined ? 'unexpected' : (roleOf(appointment, userId) ?? 'unexpected'));

/**
 * A join or a leave on the appointment's trail (and so to the platform), once: the occupant's
 * stay item remembers that it was told, and a redelivery within the newest events finds its own
 * event. If the platform could not be told, the request fails (503), so Prosody sends it again.
 */
async function tellPresence(
  deps: HistoryDeps,
  appointment: Appointment,
  occupant: ReportedOccupant,
  what: 'joined' | 'left',
  alreadyTold: boolean,
  requestId: string,
): Promise<void> {
  if (alreadyTold) return;
  const requestKey = requestKeyOf(`participant-${what}`, occupant.occupantJid, occupant.joinedAt);
  const asking = { actor: occupant.userId ?? 'unknown', requestId };
  await decideAndRecord(
    deps,
    appointment.appointmentId,
    asking,
    async (history) => {
      const current = currentState(history)!;
      const earlier = history.find((event) => event.requestKey === requestKey);
      if (earlier !== undefined) return { result: undefined, replayed: earlier };
      const part = partOf(current, occupant.userId);
      const at = what === 'joined' ? occupant.joinedAt : (occupant.leftAt ?? occupant.joinedAt);
      const record = auditRecord(current, asking, at, what === 'joined' ? 'participant-joined' : 'participant-left', {
        ...(part === 'unexpected' ? { note: 'unexpected' } : { role: part }),
      });
      return { result: undefined, event: { state: current, records: [record], requestKey } };
    },
    undefined,
    { mustPublish: true },
  );
  await deps.store.attendance.told(appointment.appointmentId, occupant.occupantJid, what);
}

/** Records one occupant's stay, then tells its join and (when known) its leave, each once. */
async function recordOccupant(deps: HistoryDeps, appointment: Appointment, occupant: ReportedOccupant, breakout: boolean, requestId: string): Promise<void> {
  const told = await deps.store.attendance.upsert({ appointmentId: appointment.appointmentId, ...occupant, breakout });
  await tellPresence(deps, appointment, occupant, 'joined', told.joined, requestId);
  if (occupant.leftAt !== undefined) await tellPresence(deps, appointment, occupant, 'left', told.left, requestId);
}

/** Handles one event from Prosody; answers what was done (no names, no ids of people). */
export async function receiveJitsiEvent(deps: HistoryDeps, kind: JitsiEventKind, input: JitsiEventInput, requestId: string): Promise<{ appointment: boolean }> {
  const now = deps.clock.nowSeconds();
  const appointment = await appointmentOfRoom(deps, input.room_name);
  if (appointment === undefined) {
    await deps.store.attendance.countAdhoc(kind, now);
    return { appointment: false };
  }
  const breakout = input.is_breakout === true;
  switch (kind) {
    case 'room-created':
      // The outcome is told once the window closes (also when nobody else ever comes).
      await deps.store.attendance.awaitOutcome(appointment.appointmentId, appointment.closesAt);
      break;
    case 'occupant-joined':
    case 'occupant-left':
      // A leave that arrives before its join tells both: the join's report will find them told.
      if (input.occupant !== undefined) await recordOccupant(deps, appointment, input.occupant, breakout, requestId);
      break;
    case 'room-destroyed': {
      const closedAt = input.destroyed_at ?? now;
      for (const occupant of input.all_occupants ?? []) {
        // A leave lost on the way (Prosody does not retry a timeout) is repaired here: the room's end is the leave.
        await recordOccupant(deps, appointment, { ...occupant, leftAt: occupant.leftAt ?? closedAt }, breakout, requestId);
      }
      if (!breakout) await deps.store.attendance.roomClosed(appointment.appointmentId, closedAt);
      // Destroyed at (or after) the window's end: the outcome is known now.
      await settleOutcome(deps, appointment.appointmentId);
      break;
    }
  }
  return { appointment: true };
}

/** Reads an appointment's attendance as of now: the stays that overlap its (current) window. */
export async function attendanceOf(deps: HistoryDeps, appointment: Appointment): Promise<Attendance> {
  const stored = await deps.store.attendance.read(appointment.appointmentId);
  // After a move, the stays of an earlier window belong to that session, not this one.
  const sessions = stored.sessions.filter(
    (session) => session.joinedAt < appointment.closesAt && (session.leftAt ?? Number.POSITIVE_INFINITY) > appointment.opensAt,
  );
  const roomClosedAt = stored.roomClosedAt !== undefined && stored.roomClosedAt > appointment.opensAt ? stored.roomClosedAt : undefined;
  return summarizeAttendance({
    therapistId: appointment.therapistId,
    clientId: appointment.clientId,
    opensAt: appointment.opensAt,
    closesAt: appointment.closesAt,
    status: appointment.status,
    roomClosedAt,
    sessions,
    now: deps.clock.nowSeconds(),
  });
}

const isFinal = (status: AttendanceStatus): status is SessionOutcome => status === 'completed' || status === 'client-no-show' || status === 'therapist-no-show';

const presenceOf = (member: Attendance['therapist']) => {
  const presence: Record<string, unknown> = { joined: member.joined, minutesPresent: member.minutesPresent };
  if (member.firstJoinAt !== undefined) presence.firstJoinAt = isoFromSeconds(member.firstJoinAt);
  if (member.lastLeaveAt !== undefined) presence.lastLeaveAt = isoFromSeconds(member.lastLeaveAt);
  return presence;
};

/**
 * Decides the session's outcome once its window is over (the session could resume until then),
 * records it on the appointment's history (once: the state keeps it) and tells the platform
 * (`session.completed` / `session.no-show`, with an id that repeats when it is told again).
 * Answers whether there is an outcome and the platform was told it.
 */
export async function settleOutcome(deps: HistoryDeps, appointmentId: string): Promise<{ outcome: SessionOutcome | undefined; told: boolean }> {
  const asking = { actor: JITSI_ACTOR, requestId: `outcome-${appointmentId}` };
  type Decided = { outcome: SessionOutcome; attendance: Attendance; appointment: Appointment } | undefined;
  const settled = await decideAndRecord<Decided>(deps, appointmentId, asking, async (history) => {
    const appointment = currentState(history);
    if (appointment === undefined || appointment.status === 'cancelled' || deps.clock.nowSeconds() < appointment.closesAt) return { result: undefined };
    const attendance = await attendanceOf(deps, appointment);
    const outcome = appointment.outcome ?? (isFinal(attendance.status) ? attendance.status : undefined);
    if (outcome === undefined) return { result: undefined };
    const decided = { outcome, attendance, appointment };
    if (appointment.outcome !== undefined) return { result: decided };
    const now = deps.clock.nowSeconds();
    const record = auditRecord(appointment, asking, now, outcome === 'completed' ? 'session-completed' : 'session-no-show', {
      note: outcome === 'completed' ? `both present ${attendance.bothPresentMinutes} min` : outcome,
    });
    return { result: decided, event: { state: { ...appointment, outcome }, records: [record] } };
  });
  if (settled === undefined) return { outcome: undefined, told: false };
  const { outcome, attendance, appointment } = settled;
  const data: Record<string, unknown> = {
    appointmentId,
    therapist: presenceOf(attendance.therapist),
    client: presenceOf(attendance.client),
    bothPresentMinutes: attendance.bothPresentMinutes,
  };
  if (outcome !== 'completed') data.status = outcome;
  const told = await deps.publisher.publish([
    {
      id: platformEventId(appointmentId, 'outcome', appointment.version),
      type: outcome === 'completed' ? 'session.completed' : 'session.no-show',
      time: isoFromSeconds(appointment.closesAt),
      data,
    },
  ]);
  return { outcome, told };
}

/** How long one sweep may run (the function's timeout is 10 s), and when a failed entry is tried again. */
const SWEEP_BUDGET_MS = 7_000;
const RETRY_LATER_SECONDS = 300;

/**
 * The outcomes whose window has closed: decided and told, until none is due or the sweep's time
 * is up (the 5-minute schedule, or the local server's timer). An entry is removed only once its
 * outcome was told (or there is nothing to tell); one that fails is tried again later, so it never
 * holds up the rest.
 */
export async function settleDueOutcomes(deps: HistoryDeps, budgetMs = SWEEP_BUDGET_MS): Promise<number> {
  const deadline = Date.now() + budgetMs;
  let settled = 0;
  while (Date.now() < deadline) {
    const now = deps.clock.nowSeconds();
    const due = await deps.store.attendance.dueOutcomes(now, 25);
    if (due.length === 0) break;
    for (const entry of due) {
      if (Date.now() >= deadline) break;
      try {
        const history = await deps.store.appointments.recent(entry.appointmentId, 1);
        const appointment = currentState(history);
        // Moved since (the new window has its own entry) or cancelled: nothing to tell for this one.
        const current = appointment !== undefined && appointment.closesAt === entry.closesAt && appointment.status === 'scheduled';
        const result = current ? await settleOutcome(deps, entry.appointmentId) : { outcome: undefined, told: true };
        if (result.outcome !== undefined && !result.told) throw new Error('the outcome could not be told');
        await deps.store.attendance.outcomeTold(entry);
        settled += 1;
      } catch (error) {
        deps.logger.warn('an outcome could not be settled; it is tried again later', {
          event: 'outcome-retry',
          errorName: error instanceof Error ? error.name : 'unknown',
        });
        await deps.store.attendance.outcomeTold(entry).catch(() => undefined);
        await deps.store.attendance.awaitOutcome(entry.appointmentId, entry.closesAt, now + RETRY_LATER_SECONDS).catch(() => undefined);
      }
    }
  }
  return settled;
}
