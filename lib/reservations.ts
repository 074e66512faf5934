// Jitsi's reservation API (Prosody's mod_reservations): before a room exists, Prosody asks
// whether it may, and for how long; the room is destroyed when that time is up. Our answer is
// the appointment's window, so Jitsi itself ends the session on time. Join links let a client
// in with a single-use code instead of a token travelling in a message.
import { createHash } from 'node:crypto';
import { appointmentByRoom, appointmentOfMember, auditRecord, currentState } from './appointments.ts';
import { appointmentCancelled, appointmentEnded, invalidField, JoinLinkUnavailableError, NotFoundError, RoomRefusedError, storeUnavailable } from './errors.ts';
import {
  decideAndRecord,
  derivedSecret,
  RETRY_WINDOW_SECONDS,
  type Asking,
  type HistoryDeps,
  Refusal,
  recordRefusal,
  replayOf,
  requestKeyOf,
  signForMembers,
} from './history.ts';
import type { IssuedToken } from './issue.ts';
import { CONFERENCE_NAME } from './requests.ts';
import { appointmentTokenTimes, isAppointmentRoom } from './room.ts';
import type { Appointment, AppointmentEvent, OpenConference } from './store.ts';
import { hashToken, isoFromSeconds } from './token.ts';

/** Prosody's id in the audit trail: it asks on behalf of whoever opened the room. */
const PROSODY_ACTOR: Asking['actor'] = 'prosody';

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

/** Our conference id → its room (the part after `tenant~`). */
const roomOfConferenceId = (id: string): string => id.slice(id.indexOf('~') + 1);

const DOMAIN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** What is kept of Prosody's `mail_owner` (an address): its domain, an XMPP domain and never a person's; anything else is `unknown`. */
export function ownerDomainOf(mailOwner: string): string {
  const at = mailOwner.lastIndexOf('@');
  const domain = at < 0 ? '' : mailOwner.slice(at + 1).split('/')[0]!;
  return domain.length <= 253 && DOMAIN.test(domain) ? domain.toLowerCase() : 'unknown';
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

/** The room's appointment and its end, or the refusal (counted on the appointment's trail). */
function leaseOf(appointment: Appointment, tenant: string | undefined, now: number): number {
  if (appointment.tenant !== tenant) throw new Refusal(new RoomRefusedError('This meeting room does not exist.'), 'room_other_tenant');
  const refusal = appointmentRoomRefusal(appointment, now);
  if (refusal !== undefined) throw new Refusal(new RoomRefusedError(refusal.message), `room_${refusal.code}`);
  return appointment.closesAt;
}

/** The answer Prosody needs; the creator's address is echoed when it just sent it, and never stored. */
function answer(conference: OpenConference, mailOwner: string | undefined, lobby: boolean): ReservationAnswer {
  const body: ReservationAnswer = {
    // A string id: Prosody turns a numeric one into "<n>.0" in its GET and DELETE paths.
    id: conference.id,
    name: conference.name,
    mail_owner: mailOwner ?? `owner@${conference.ownerDomain}`,
    start_time: isoFromSeconds(conference.openedAt),
    duration: Math.max(0, conference.endsAt - conference.openedAt),
  };
  if (lobby) body.lobby = true;
  return body;
}

/**
 * POST /conference: may this room exist, and until when? An appointment's room inside its
 * window lives until the window closes; before it, after it, or cancelled it is refused. A
 * room that is already open answers 409 with its id (Prosody then asks GET /conference/{id});
 * Prosody's retry of the same request (same start time) gets the same 200. For an appointment,
 * the open room and its record are one event of the appointment's history.
 */
export async function reserveConference(
  deps: HistoryDeps,
  request: ReservationRequest,
  requestId: string,
): Promise<{ status: 200 | 409; body: Record<string, unknown> }> {
  const now = deps.clock.nowSeconds();
  const openedAt = Math.floor(request.startMs / 1000);
  // Prosody sends the time it got the request: a start_time far from ours is not one it sent.
  if (Math.abs(openedAt - now) > START_TIME_TOLERANCE_SECONDS) {
    throw invalidField('start_time', "must be the time Prosody got the request (within an hour of this server's clock)");
  }
  const { tenant, room, id } = conferenceOf(request.name);
  const ownerDomain = ownerDomainOf(request.mailOwner);
  if (!isAppointmentRoom(room, deps.settings.roomPrefix)) {
    if (!deps.settings.adhocRooms) throw new RoomRefusedError('This room is not open on this server.');
    const conference = { id, name: request.name, room, ownerDomain, openedAt, endsAt: openedAt + deps.settings.adhocSessionMaxMinutes * 60 };
    if (!(await deps.store.conferences.open(conference))) {
      // A record whose time is up is a room that closed without telling us: replace it.
      const existing = await deps.store.conferences.get(id);
      if (existing !== undefined && existing.openedAt === openedAt) return { status: 200, body: { ...answer(existing, request.mailOwner, false) } };
      if (existing !== undefined && existing.endsAt > deps.clock.nowSeconds()) return { status: 409, body: { conflict_id: id } };
      await deps.store.conferences.close(id, deps.clock.nowSeconds(), 0);
      if (!(await deps.store.conferences.open(conference))) return { status: 409, body: { conflict_id: id } };
    }
    return { status: 200, body: { ...answer(conference, request.mailOwner, false) } };
  }
  const found = await appointmentByRoom(deps, room);
  if (found === undefined) throw new RoomRefusedError('This meeting room does not exist.');
  const lobby = deps.settings.reservationsLobby;
  return decideAndRecord<{ status: 200 | 409; body: Record<string, unknown> }>(
    deps,
    found.appointmentId,
    { actor: PROSODY_ACTOR, requestId },
    async (history) => {
      const appointment = currentState(history)!;
      const at = deps.clock.nowSeconds();
      const open = appointment.conference;
      // The window and the cancel decide first: a retry never reopens a room that may no longer exist.
      const endsAt = leaseOf(appointment, tenant, at);
      if (open !== undefined && open.id === id && open.openedAt === openedAt && at - openedAt <= RETRY_WINDOW_SECONDS) {
        return { result: { status: 200, body: { ...answer(open, request.mailOwner, lobby) } } };
      }
      if (open !== undefined && open.endsAt > at) return { result: { status: 409, body: { conflict_id: open.id } } };
      const conference: OpenConference = { id, name: request.name, openedAt, endsAt, ownerDomain };
      const state = { ...appointment, conference };
      const record = auditRecord(appointment, { actor: PROSODY_ACTOR, requestId }, at, 'room-opened', { note: `duration ${endsAt - openedAt} s` });
      return { result: { status: 200, body: { ...answer(conference, request.mailOwner, lobby) } }, event: { state, records: [record] } };
    },
    found.history,
  );
}

/** GET /conference/{id}: the open room's reservation, checked again (a cancel since closes it). */
export async function conferenceReservation(deps: HistoryDeps, id: string, requestId: string): Promise<ReservationAnswer> {
  const room = roomOfConferenceId(id);
  if (!isAppointmentRoom(room, deps.settings.roomPrefix)) {
    const conference = await deps.store.conferences.get(id);
    if (conference === undefined) throw new NotFoundError('No such conference.');
    return answer(conference, undefined, false);
  }
  const found = await appointmentByRoom(deps, room);
  const appointment = found === undefined ? undefined : currentState(found.history);
  const open = appointment?.conference;
  if (found === undefined || appointment === undefined || open === undefined || open.id !== id) throw new NotFoundError('No such conference.');
  try {
    leaseOf(appointment, conferenceOf(open.name).tenant, deps.clock.nowSeconds());
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    return recordRefusal(deps, appointment.appointmentId, { actor: PROSODY_ACTOR, requestId }, error, true);
  }
  return answer(open, undefined, deps.settings.reservationsLobby);
}

/** How long a closed room was open, as its `room-closed` record says. */
const openSecondsOf = (event: AppointmentEvent): number => Number(/^open (\d+) s$/.exec(event.records[0]?.note ?? '')?.[1] ?? 0);

/**
 * DELETE /conference/{id}: the room is gone (everyone left, or its time ran out). For an
 * appointment, closing and its record (how long it was open) are one event; Prosody's retry of
 * the same DELETE finds that event and gets the same answer.
 */
export async function closeConference(deps: HistoryDeps, id: string, requestId: string): Promise<{ id: string; openSeconds: number }> {
  const room = roomOfConferenceId(id);
  if (!isAppointmentRoom(room, deps.settings.roomPrefix)) {
    const conference = await deps.store.conferences.close(id, deps.clock.nowSeconds(), RETRY_WINDOW_SECONDS);
    if (conference === undefined) throw new NotFoundError('No such conference.');
    return { id, openSeconds: Math.max(0, deps.clock.nowSeconds() - conference.openedAt) };
  }
  const found = await appointmentByRoom(deps, room);
  if (found === undefined) throw new NotFoundError('No such conference.');
  return decideAndRecord(
    deps,
    found.appointmentId,
    { actor: PROSODY_ACTOR, requestId },
    async (history) => {
      const appointment = currentState(history)!;
      const open = appointment.conference;
      const now = deps.clock.nowSeconds();
      const closedByThis = history.find((event) => event.requestKey === closeKeyOf(id) && (event.records[0]?.at ?? 0) >= now - RETRY_WINDOW_SECONDS);
      if (open === undefined && closedByThis !== undefined) return { result: { id, openSeconds: openSecondsOf(closedByThis) } };
      if (open === undefined || open.id !== id) throw new NotFoundError('No such conference.');
      const openSeconds = Math.max(0, now - open.openedAt);
      const record = auditRecord(appointment, { actor: PROSODY_ACTOR, requestId }, now, 'room-closed', { note: `open ${openSeconds} s` });
      return {
        result: { id, openSeconds },
        event: { state: { ...appointment, conference: undefined }, records: [record], requestKey: closeKeyOf(id) },
      };
    },
    found.history,
  );
}

/** The key of a room's closing: its id (one room of that id is open at a time). */
const closeKeyOf = (id: string) => requestKeyOf('close-conference', id);

const hashCode = (code: string) => createHash('sha256').update(code, 'utf8').digest('base64url');

/** A join code: 256 bits derived from the signing key, the request and its event's place, so a retry of the same request gives the same link. */
const joinCodeFor = async (deps: HistoryDeps, requestKey: string, seq: number) =>
  (await derivedSecret(deps.keyring, 'join-link', requestKey, seq)).toString('base64url');

/**
 * A single-use join link for the appointment's client: a 256-bit code, stored only as its hash,
 * usable until the link's expiry or the appointment's end, whichever is first. The record comes
 * first and the code after it: a failure between them is repaired by the retry, which finds the
 * record and stores the same code. A repeat within the retry window gets the same link while
 * nobody has used it; once used, a repeat makes a new one.
 */
export async function createJoinLink(deps: HistoryDeps, appointmentId: string, asking: Asking): Promise<{ code: string; expiresAt: number }> {
  const { history } = await appointmentOfMember(deps, appointmentId, asking, 'therapist');
  const requestKey = requestKeyOf('join-link', asking.actor, appointmentId);
  const { at, seq, appointment } = await decideAndRecord(
    deps,
    appointmentId,
    asking,
    async (events) => {
      const now = deps.clock.nowSeconds();
      const current = currentState(events)!;
      const replay = replayOf(events, requestKey, now);
      if (replay !== undefined) {
        const earlier = await deps.store.joinCodes.get(hashCode(await joinCodeFor(deps, requestKey, replay.seq)));
        if (earlier?.usedBy === undefined) return { result: { at: replay.records[0]!.at, seq: replay.seq, appointment: replay.state } };
      }
      if (current.status === 'cancelled') throw new Refusal(appointmentCancelled(), 'cancelled', 'therapist');
      if (current.closesAt <= now) throw new Refusal(appointmentEnded(), 'ended', 'therapist');
      return {
        result: { at: now, seq: (events[0]?.seq ?? 0) + 1, appointment: current },
        event: { state: current, records: [auditRecord(current, asking, now, 'join-link-created', { role: 'therapist' })], requestKey },
      };
    },
    history,
  );
  const code = await joinCodeFor(deps, requestKey, seq);
  const expiresAt = Math.min(at + deps.settings.joinLinkTtlMinutes * 60, appointment.closesAt);
  if (!(await deps.store.joinCodes.add(hashCode(code), { appointmentId, expiresAt }))) throw storeUnavailable();
  return { code, expiresAt };
}

/**
 * Exchanges a join code for the client's token for the appointment's window, exactly once. The
 * code is claimed for this request (code and name): of parallel exchanges one claim wins, and
 * the same request retried after a failure finishes the exchange instead of finding the code
 * burned. The token and its records are one event, ordered after any cancel. Used, expired,
 * cancelled and unknown codes all get the same answer.
 */
export async function exchangeJoinLink(deps: HistoryDeps, code: string, userName: string | undefined, requestId: string): Promise<IssuedToken> {
  const codeHash = hashCode(code);
  const requestKey = requestKeyOf('join-link-exchange', codeHash, userName ?? null);
  const claimed = await deps.store.joinCodes.claim(codeHash, requestKey, deps.clock.nowSeconds(), RETRY_WINDOW_SECONDS);
  if (claimed === undefined) {
    // A code that exists was used by another request or has expired: counted on its appointment's trail.
    const known = await deps.store.joinCodes.get(codeHash);
    if (known === undefined) throw new JoinLinkUnavailableError();
    return recordRefusal(
      deps,
      known.appointmentId,
      { actor: 'anonymous', requestId },
      new Refusal(new JoinLinkUnavailableError(), 'join_link_used_or_expired'),
      true,
    );
  }
  // The link is the client's: what it decides is recorded as the client's.
  const asking: Asking = { actor: 'client', requestId };
  return decideAndRecord(deps, claimed.appointmentId, asking, async (history: AppointmentEvent[]) => {
    const now = deps.clock.nowSeconds();
    const appointment = currentState(history);
    if (appointment === undefined) throw new JoinLinkUnavailableError();
    const client: Asking = { actor: appointment.clientId, requestId };
    const members = [{ user: { id: appointment.clientId, name: userName ?? 'Client' }, role: 'client' as const }];
    const replay = replayOf(history, requestKey, now);
    if (replay !== undefined) return { result: (await signForMembers(deps, replay.state, members, replay.grants ?? []))[0]!, replayed: replay };
    if (appointment.status === 'cancelled' || appointment.closesAt <= now || history.some((event) => event.requestKey === requestKey)) {
      // After a cancel or the end, or this request's exchange is already done and past answering again: used.
      throw new Refusal(new JoinLinkUnavailableError(), 'join_link_after_cancel_or_end', 'client', appointment.clientId);
    }
    const grants = [appointmentTokenTimes(now, appointment)];
    const [token] = await signForMembers(deps, appointment, members, grants);
    const records = [
      auditRecord(appointment, client, now, 'join-link-used', { role: 'client' }),
      auditRecord(appointment, client, now, 'token-issued', { role: 'client', tokenHash: hashToken(token!.token) }),
    ];
    return { result: token!, event: { state: appointment, records, requestKey, grants } };
  });
}
