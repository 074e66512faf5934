// Jitsi's reservation API (Prosody's mod_reservations): before a room exists, Prosody asks
// whether it may, and for how long; the room is destroyed when that time is up. Our answer is
// the appointment's window, so Jitsi itself ends the session on time. Join links let a client
// in with a single-use code instead of a token travelling in a message.
import { createHash, randomBytes } from 'node:crypto';
import type { AppointmentDeps, Asking } from './appointments.ts';
import { appointmentOfMember, auditRecord, roleOf } from './appointments.ts';
import { appointmentCancelled, appointmentEnded, invalidField, JoinLinkUnavailableError, NotFoundError, RoomRefusedError } from './errors.ts';
import { issueTokens, type IssuedToken } from './issue.ts';
import { CONFERENCE_NAME } from './requests.ts';
import { appointmentTokenTimes, isAppointmentRoom } from './room.ts';
import type { Appointment, AuditAction, Conference } from './store.ts';
import { hashToken, isoFromSeconds } from './token.ts';

/** Prosody's address in the audit trail: it asks on behalf of whoever opened the room. */
const PROSODY: Asking['actor'] = 'prosody';

export interface ReservationRequest {
  name: string;
  /** Milliseconds since the epoch. */
  startMs: number;
  mailOwner: string;
}

/** Prosody's conference payload: it needs all of these, and ends the room at start_time + duration. */
export interface ReservationAnswer {
  id: string;
  name: string;
  mail_owner: string;
  start_time: string;
  duration: number;
  lobby?: boolean;
}

/** How far Prosody's clock may be from ours (NTP keeps it far closer: Jitsi needs it for tokens). */
const START_TIME_TOLERANCE_SECONDS = 3_600;

const utcTime = (seconds: number) => `${isoFromSeconds(seconds).slice(11, 16)} UTC`;
const utcDay = (seconds: number) => isoFromSeconds(seconds).slice(0, 10);

/** `[tenant]room` → its parts, and our id for it (`tenant~room`). */
export function conferenceOf(name: string): { tenant: string | undefined; room: string; id: string } {
  const [, tenant, room] = CONFERENCE_NAME.exec(name) ?? [];
  if (room === undefined) throw new RoomRefusedError('This meeting room does not exist.');
  return { tenant, room, id: tenant === undefined ? room : `${tenant}~${room}` };
}

/** Why an appointment's room may not be open at `now`, in words a person understands; undefined when it may. */
export function appointmentRoomRefusal(appointment: Appointment, now: number): { code: string; message: string } | undefined {
  if (appointment.status === 'cancelled') return { code: 'cancelled', message: 'This session was cancelled.' };
  if (now < appointment.opensAt) {
    const day = utcDay(appointment.startsAt) === utcDay(now) ? '' : ` on ${utcDay(appointment.startsAt)}`;
    return { code: 'early', message: `This session starts at ${utcTime(appointment.startsAt)}${day}; the room opens at ${utcTime(appointment.opensAt)}.` };
  }
  if (now >= appointment.closesAt) return { code: 'ended', message: 'This session has ended.' };
  return undefined;
}

/** Records what Prosody's call decided for an appointment's room. */
const auditProsody = (deps: AppointmentDeps, appointmentId: string, requestId: string, at: number, action: AuditAction, note: string) =>
  deps.store.audit([auditRecord({ appointmentId }, { actor: PROSODY, requestId }, at, action, { note })]);

/** The room's appointment and its end, or the refusal (recorded on the appointment's trail). */
async function roomLease(
  deps: AppointmentDeps,
  name: string,
  requestId: string,
  openedAt: number,
): Promise<{ appointment: Appointment | undefined; endsAt: number; room: string; id: string }> {
  const { settings, store, clock } = deps;
  const now = clock.nowSeconds();
  const { tenant, room, id } = conferenceOf(name);
  if (!isAppointmentRoom(room, settings.roomPrefix)) {
    if (!settings.adhocRooms) throw new RoomRefusedError('This room is not open on this server.');
    return { appointment: undefined, endsAt: openedAt + settings.adhocSessionMaxMinutes * 60, room, id };
  }
  const appointment = await store.getByRoom(room);
  if (appointment === undefined || appointment.tenant !== tenant) throw new RoomRefusedError('This meeting room does not exist.');
  const refusal = appointmentRoomRefusal(appointment, now);
  if (refusal !== undefined) {
    await auditProsody(deps, appointment.appointmentId, requestId, now, 'room-refused', refusal.code);
    throw new RoomRefusedError(refusal.message);
  }
  return { appointment, endsAt: appointment.closesAt, room, id };
}

function answer(conference: Conference, lobby: boolean): ReservationAnswer {
  const body: ReservationAnswer = {
    // A string id: Prosody turns a numeric one into "<n>.0" in its GET and DELETE paths.
    id: conference.id,
    name: conference.name,
    mail_owner: conference.mailOwner,
    start_time: isoFromSeconds(conference.openedAt),
    duration: Math.max(0, conference.endsAt - conference.openedAt),
  };
  if (lobby && conference.appointmentId !== undefined) body.lobby = true;
  return body;
}

/**
 * POST /conference: may this room exist, and until when? An appointment's room inside its
 * window lives until the window closes; before it, after it, or cancelled it is refused. A
 * room that is already open answers 409 with its id (Prosody then asks GET /conference/{id}).
 */
export async function reserveConference(
  deps: AppointmentDeps,
  request: ReservationRequest,
  requestId: string,
): Promise<{ status: 200 | 409; body: Record<string, unknown> }> {
  const openedAt = Math.floor(request.startMs / 1000);
  // Prosody sends the time it got the request: a start_time far from ours is not one it sent.
  if (Math.abs(openedAt - deps.clock.nowSeconds()) > START_TIME_TOLERANCE_SECONDS) {
    throw invalidField('start_time', "must be the time Prosody got the request (within an hour of this server's clock)");
  }
  const { appointment, endsAt, room, id } = await roomLease(deps, request.name, requestId, openedAt);
  const conference: Conference = { id, name: request.name, room, appointmentId: appointment?.appointmentId, mailOwner: request.mailOwner, openedAt, endsAt };
  if (!(await deps.store.openConference(conference))) {
    // A record whose time is up is a room that closed without telling us: replace it.
    const existing = await deps.store.getConference(id);
    const stale = existing === undefined || existing.endsAt <= deps.clock.nowSeconds();
    if (!stale) return { status: 409, body: { conflict_id: id } };
    await deps.store.closeConference(id);
    if (!(await deps.store.openConference(conference))) return { status: 409, body: { conflict_id: id } };
  }
  if (appointment !== undefined) {
    await auditProsody(deps, appointment.appointmentId, requestId, deps.clock.nowSeconds(), 'room-opened', `duration ${endsAt - openedAt} s`);
  }
  return { status: 200, body: { ...answer(conference, deps.settings.reservationsLobby) } };
}

/** GET /conference/{id}: the open room's reservation, checked again (a cancel since closes it). */
export async function conferenceReservation(deps: AppointmentDeps, id: string, requestId: string): Promise<ReservationAnswer> {
  const conference = await deps.store.getConference(id);
  if (conference === undefined) throw new NotFoundError('No such conference.');
  if (conference.appointmentId !== undefined) await roomLease(deps, conference.name, requestId, conference.openedAt);
  return answer(conference, deps.settings.reservationsLobby);
}

/** DELETE /conference/{id}: the room is gone (everyone left, or its time ran out). Recorded with how long it was open. */
export async function closeConference(deps: AppointmentDeps, id: string, requestId: string): Promise<{ id: string; openSeconds: number }> {
  const conference = await deps.store.closeConference(id);
  if (conference === undefined) throw new NotFoundError('No such conference.');
  const now = deps.clock.nowSeconds();
  const openSeconds = Math.max(0, now - conference.openedAt);
  if (conference.appointmentId !== undefined) await auditProsody(deps, conference.appointmentId, requestId, now, 'room-closed', `open ${openSeconds} s`);
  return { id, openSeconds };
}

const hashCode = (code: string) => createHash('sha256').update(code, 'utf8').digest('base64url');

/**
 * A single-use join link for the appointment's client: a 256-bit code, stored only as its hash,
 * usable until the link's expiry or the appointment's end, whichever is first.
 */
export async function createJoinLink(deps: AppointmentDeps, appointmentId: string, asking: Asking): Promise<{ code: string; expiresAt: number }> {
  const { appointment } = await appointmentOfMember(deps, appointmentId, asking.actor, 'therapist');
  if (appointment.status === 'cancelled') throw appointmentCancelled();
  const now = deps.clock.nowSeconds();
  if (appointment.closesAt <= now) throw appointmentEnded();
  const code = randomBytes(32).toString('base64url');
  const expiresAt = Math.min(now + deps.settings.joinLinkTtlMinutes * 60, appointment.closesAt);
  await deps.store.addJoinCode(hashCode(code), { appointmentId, expiresAt });
  await deps.store.audit([auditRecord(appointment, asking, now, 'join-link-created', { role: 'therapist' })]);
  return { code, expiresAt };
}

/**
 * Exchanges a join code, exactly once (a conditional write: of many parallel exchanges one
 * wins), for the client's token for the appointment's window. Used, expired, cancelled and
 * unknown codes all get the same answer.
 */
export async function exchangeJoinLink(deps: AppointmentDeps, code: string, userName: string | undefined, requestId: string): Promise<IssuedToken> {
  const now = deps.clock.nowSeconds();
  const appointmentId = await deps.store.redeemJoinCode(hashCode(code), now);
  if (appointmentId === undefined) throw new JoinLinkUnavailableError();
  const appointment = await deps.store.get(appointmentId);
  const asking = { actor: appointment?.clientId ?? 'unknown', requestId };
  if (appointment === undefined || appointment.status === 'cancelled' || appointment.closesAt <= now) {
    if (appointment !== undefined) await deps.store.audit([auditRecord(appointment, asking, now, 'refused', { note: 'join_link_after_cancel_or_end' })]);
    throw new JoinLinkUnavailableError();
  }
  const [token] = await issueTokens(deps.keyring, deps.settings, [
    {
      room: appointment.room,
      tenant: appointment.tenant,
      user: { id: appointment.clientId, name: userName ?? 'Client' },
      moderator: false,
      times: appointmentTokenTimes(now, appointment),
      appointmentVersion: appointment.version,
    },
  ]);
  const role = roleOf(appointment, appointment.clientId);
  await deps.store.audit([
    auditRecord(appointment, asking, now, 'join-link-used', { role }),
    auditRecord(appointment, asking, now, 'token-issued', { role, tokenHash: hashToken(token!.token) }),
  ]);
  return token!;
}
