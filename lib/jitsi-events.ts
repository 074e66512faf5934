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

async function recordOccupant(deps: HistoryDeps, appointment: Appointment, occupant: ReportedOccupant, breakout: boolean): Promise<void> {
  await deps.store.attendance.upsert({ appointmentId: appointment.appointmentId, ...occupant, breakout });
}

/**
 * A join or a leave on the appointment's trail (and so to the platform), once: Prosody's
 * redelivery of the same report (same occupant, same times) finds its own event and adds nothing.
 */
async function recordPresence(deps: HistoryDeps, appointmentId: string, occupant: ReportedOccupant, what: 'joined' | 'left', requestId: string): Promise<void> {
  const requestKey = requestKeyOf(`participant-${what}`, occupant.occupantJid, occupant.joinedAt, what === 'left' ? (occupant.leftAt ?? null) : null);
  const asking = { actor: occupant.userId ?? 'unknown', requestId };
  await decideAndRecord(deps, appointmentId, asking, async (history) => {
    const appointment = currentState(history)!;
    if (history.some((event) => event.requestKey === requestKey)) return { result: undefined };
    const part = partOf(appointment, occupant.userId);
    const at = what === 'joined' ? occupant.joinedAt : (occupant.leftAt ?? occupant.joinedAt);
    const record = auditRecord(appointment, asking, at, what === 'joined' ? 'participant-joined' : 'participant-left', {
      ...(part === 'unexpected' ? { note: 'unexpected' } : { role: part }),
    });
    return { result: undefined, event: { state: appointment, records: [record], requestKey } };
  });
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
    case 'occupant-left': {
      const occupant = input.occupant;
      if (occupant === undefined) break;
      await recordOccupant(deps, appointment, occupant, breakout);
      await recordPresence(deps, appointment.appointmentId, occupant, kind === 'occupant-joined' ? 'joined' : 'left', requestId);
      break;
    }
    case 'room-destroyed': {
      const closedAt = input.destroyed_at ?? now;
      for (const occupant of input.all_occupants ?? []) {
        // A leave lost on the way (Prosody does not retry a timeout) is repaired here: the room's end is the leave.
        await recordOccupant(deps, appointment, { ...occupant, leftAt: occupant.leftAt ?? closedAt }, breakout);
      }
      if (!breakout) await deps.store.attendance.roomClosed(appointment.appointmentId, closedAt);
      await settleOutcome(deps, appointment.appointmentId, 'room-closed');
      break;
    }
  }
  return { appointment: true };
}

/** Reads an appointment's attendance as of now. */
export async function attendanceOf(deps: HistoryDeps, appointment: Appointment): Promise<Attendance> {
  const { sessions, roomClosedAt } = await deps.store.attendance.read(appointment.appointmentId);
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

/** An outcome the platform is told: completed once both came and the room closed, a no-show once the window is over. */
function outcomeToTell(attendance: Attendance, when: 'room-closed' | 'window-over'): SessionOutcome | undefined {
  if (when === 'room-closed')
    return attendance.therapist.joined && attendance.client.joined && !attendance.therapist.present && !attendance.client.present ? 'completed' : undefined;
  return isFinal(attendance.status) ? attendance.status : undefined;
}

const presenceOf = (member: Attendance['therapist']) => {
  const presence: Record<string, unknown> = { joined: member.joined, minutesPresent: member.minutesPresent };
  if (member.firstJoinAt !== undefined) presence.firstJoinAt = isoFromSeconds(member.firstJoinAt);
  if (member.lastLeaveAt !== undefined) presence.lastLeaveAt = isoFromSeconds(member.lastLeaveAt);
  return presence;
};

/**
 * Decides the session's outcome once it can be known, records it on the appointment's history
 * (once: the state keeps it) and tells the platform (`session.completed` / `session.no-show`,
 * with an id that repeats if it is told again).
 */
export async function settleOutcome(deps: HistoryDeps, appointmentId: string, when: 'room-closed' | 'window-over'): Promise<SessionOutcome | undefined> {
  const asking = { actor: JITSI_ACTOR, requestId: `outcome-${appointmentId}` };
  type Told = { outcome: SessionOutcome; attendance: Attendance; appointment: Appointment } | undefined;
  const settled = await decideAndRecord<Told>(deps, appointmentId, asking, async (history) => {
    const appointment = currentState(history);
    if (appointment === undefined || appointment.status === 'cancelled') return { result: undefined };
    const attendance = await attendanceOf(deps, appointment);
    const outcome = appointment.outcome ?? outcomeToTell(attendance, when);
    if (outcome === undefined) return { result: undefined };
    const told = { outcome, attendance, appointment };
    if (appointment.outcome !== undefined) return { result: told };
    const now = deps.clock.nowSeconds();
    const note = `both present ${attendance.bothPresentMinutes} min`;
    const record = auditRecord(appointment, asking, now, outcome === 'completed' ? 'session-completed' : 'session-no-show', {
      note: outcome === 'completed' ? note : outcome,
    });
    return { result: told, event: { state: { ...appointment, outcome }, records: [record] } };
  });
  if (settled === undefined) return undefined;
  const { outcome, attendance, appointment } = settled;
  const data: Record<string, unknown> = {
    appointmentId,
    therapist: presenceOf(attendance.therapist),
    client: presenceOf(attendance.client),
    bothPresentMinutes: attendance.bothPresentMinutes,
  };
  if (outcome !== 'completed') data.status = outcome;
  await deps.publisher.publish([
    {
      id: platformEventId(appointmentId, 'outcome', appointment.version),
      type: outcome === 'completed' ? 'session.completed' : 'session.no-show',
      time: isoFromSeconds(deps.clock.nowSeconds()),
      data,
    },
  ]);
  return outcome;
}

/** The outcomes whose window has closed: decided and told, a few at a time (the 5-minute schedule, or the local server's timer). */
export async function settleDueOutcomes(deps: HistoryDeps, limit = 25): Promise<number> {
  const now = deps.clock.nowSeconds();
  const due = await deps.store.attendance.dueOutcomes(now, limit);
  for (const { appointmentId, closesAt } of due) {
    const history = await deps.store.appointments.recent(appointmentId, 1);
    const appointment = currentState(history);
    // Moved since (a later window has its own entry) or cancelled: nothing to tell for this window.
    if (appointment !== undefined && appointment.closesAt === closesAt && appointment.status === 'scheduled')
      await settleOutcome(deps, appointmentId, 'window-over');
    await deps.store.attendance.outcomeTold(appointmentId, closesAt);
  }
  return due.length;
}
