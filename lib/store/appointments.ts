// Appointments as a history of versioned items: every change (created, moved, cancelled, a room
// opened or closed) and every token issued is one item holding the appointment's whole state
// after it and the audit records of what was decided, written in one conditional PutItem at the
// next sequence number. A change and its record land together or not at all, and two writers
// can never both take the same place in the history: the loser re-reads and decides again (a
// cancel that took the place first wins). Items hold ids, times and states, never a name,
// an email or a token (a token's SHA-256 only).
//
//   APPT#<appointmentId> / E#<sequence, 10 digits>   one event: state + records
import { storeUnavailable } from '../errors.ts';
import { fieldsOf, type Item, type Key, type Table } from './table.ts';

export type AppointmentStatus = 'scheduled' | 'cancelled';

/** A room Prosody opened for the appointment through the reservation API, until it closes. */
export interface OpenConference {
  /** Our id for it (`tenant~room`, or the room). */
  id: string;
  /** The room name as Prosody sent it (`[tenant]room` for tenants). */
  name: string;
  /** Seconds since the epoch. */
  openedAt: number;
  endsAt: number;
  /** The domain of the creator's address Prosody sent (the address itself is never kept). */
  ownerDomain: string;
}

export interface Appointment {
  appointmentId: string;
  /** Multi-tenant URLs: the tenant its tokens name; undefined for the default. */
  tenant: string | undefined;
  therapistId: string;
  clientId: string;
  /** Seconds since the epoch. */
  startsAt: number;
  durationMinutes: number;
  /** When its tokens may be used: start − early join … end + grace (seconds). */
  opensAt: number;
  closesAt: number;
  status: AppointmentStatus;
  /** Moves on every change of time or status; tokens carry the version they were issued for. */
  version: number;
  room: string;
  createdAt: number;
  updatedAt: number;
  conference?: OpenConference | undefined;
  /** The session's outcome, once it was decided and told (attendance). */
  outcome?: SessionOutcome | undefined;
}

export type SessionOutcome = 'completed' | 'client-no-show' | 'therapist-no-show';
const OUTCOMES: readonly string[] = ['completed', 'client-no-show', 'therapist-no-show'];

export const AUDIT_ACTIONS = [
  'created',
  'token-issued',
  'token-refreshed',
  'refused',
  'cancelled',
  'moved',
  'room-opened',
  'room-closed',
  'join-link-created',
  'join-link-used',
  'participant-joined',
  'participant-left',
  'session-completed',
  'session-no-show',
  'meeting-ended',
  'meeting-end-failed',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditRecord {
  appointmentId: string;
  /** Seconds since the epoch. */
  at: number;
  action: AuditAction;
  /** Who asked: a caller id, or `prosody` for the reservation API. Never a name. */
  actor: string;
  role?: 'therapist' | 'client' | undefined;
  requestId: string;
  /** SHA-256 of an issued token, base64url; never the token. */
  tokenHash?: string | undefined;
  /** A reason code for a refusal, or a short fact ("duration 3000 s"). */
  note?: string | undefined;
  /** Refusals are kept one record per asker, reason and day: how many, and the last one's time. */
  count?: number | undefined;
  lastAt?: number | undefined;
}

/** The times of a token an event issued: a retry of the same request signs the same token again. */
export interface Grant {
  issuedAt: number;
  notBefore: number;
  expiresAt: number;
}

export interface AppointmentEvent {
  /** Its place in the appointment's history, from 1. */
  seq: number;
  state: Appointment;
  records: AuditRecord[];
  /** A hash of who asked for what (route, asker, body): how a retry of the same request finds this event. */
  requestKey?: string | undefined;
  /** The tokens this event issued, in the order of its token records. */
  grants?: Grant[] | undefined;
  /** When the store may drop it (TTL): never before an earlier event, so the newest event is the last to go. */
  keepUntil?: number | undefined;
}

export interface AppointmentHistory {
  /** The newest events, newest first (strongly consistent); empty for an unknown appointment. */
  recent(appointmentId: string, limit?: number): Promise<AppointmentEvent[]>;
  /** Writes the event at its sequence number; false when another writer took that place first. */
  append(event: AppointmentEvent): Promise<boolean>;
  /** A page of the history, newest first. */
  page(appointmentId: string, limit: number, after: Key | undefined): Promise<{ events: AppointmentEvent[]; next: Key | undefined }>;
}

export const appointmentPartition = (appointmentId: string) => `APPT#${appointmentId}`;
const EVENT_PREFIX = 'E#';
const eventKey = (appointmentId: string, seq: number): Key => ({
  pk: appointmentPartition(appointmentId),
  sk: `${EVENT_PREFIX}${String(seq).padStart(10, '0')}`,
});
/** How many events a decision reads: enough to find a retried request's event among concurrent ones. */
export const RECENT_EVENTS = 8;

const STATE_NUMBERS = ['startsAt', 'durationMinutes', 'opensAt', 'closesAt', 'version', 'createdAt', 'updatedAt'] as const;
const STATE_TEXTS = ['appointmentId', 'therapistId', 'clientId', 'room'] as const;

function recordItem(record: AuditRecord): Item {
  const { appointmentId: _, ...fields } = record;
  return fields;
}

function recordFrom(appointmentId: string, item: unknown): AuditRecord {
  if (typeof item !== 'object' || item === null) throw storeUnavailable();
  const fields = fieldsOf(item as Item);
  const role = fields.optionalText('role');
  if (role !== undefined && role !== 'therapist' && role !== 'client') throw storeUnavailable();
  const action = fields.text('action');
  if (!(AUDIT_ACTIONS as readonly string[]).includes(action)) throw storeUnavailable();
  const record: AuditRecord = {
    appointmentId,
    at: fields.number('at'),
    action: action as AuditAction,
    actor: fields.text('actor'),
    requestId: fields.text('requestId'),
  };
  if (role !== undefined) record.role = role;
  const tokenHash = fields.optionalText('tokenHash');
  if (tokenHash !== undefined) record.tokenHash = tokenHash;
  const note = fields.optionalText('note');
  if (note !== undefined) record.note = note;
  return record;
}

function conferenceFrom(item: unknown): OpenConference | undefined {
  if (item === undefined) return undefined;
  if (typeof item !== 'object' || item === null) throw storeUnavailable();
  const fields = fieldsOf(item as Item);
  return {
    id: fields.text('id'),
    name: fields.text('name'),
    openedAt: fields.number('openedAt'),
    endsAt: fields.number('endsAt'),
    ownerDomain: fields.text('ownerDomain'),
  };
}

function grantsFrom(value: unknown): Grant[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw storeUnavailable();
  return value.map((grant: unknown) => {
    if (typeof grant !== 'object' || grant === null) throw storeUnavailable();
    const fields = fieldsOf(grant as Item);
    return { issuedAt: fields.number('issuedAt'), notBefore: fields.number('notBefore'), expiresAt: fields.number('expiresAt') };
  });
}

/** Reads an event back, refusing anything that is not the shape we write (a garbled answer is an outage, not data). */
export function eventFrom(item: Item): AppointmentEvent {
  const fields = fieldsOf(item);
  const status = fields.text('status');
  if (status !== 'scheduled' && status !== 'cancelled') throw storeUnavailable();
  const outcome = fields.optionalText('outcome');
  if (outcome !== undefined && !OUTCOMES.includes(outcome)) throw storeUnavailable();
  const state = { status, tenant: fields.optionalText('tenant'), conference: conferenceFrom(item.conference), outcome } as Appointment;
  for (const name of STATE_TEXTS) state[name] = fields.text(name);
  for (const name of STATE_NUMBERS) state[name] = fields.number(name);
  if (!Array.isArray(item.records)) throw storeUnavailable();
  return {
    seq: fields.number('seq'),
    state,
    records: item.records.map((record) => recordFrom(state.appointmentId, record)),
    requestKey: fields.optionalText('requestKey'),
    grants: grantsFrom(item.grants),
    keepUntil: fields.optionalNumber('expiresAt'),
  };
}

export function openAppointmentHistory(table: Table, retentionSeconds: number): AppointmentHistory {
  return {
    async recent(appointmentId, limit = RECENT_EVENTS) {
      const { items } = await table.query({ pk: appointmentPartition(appointmentId), prefix: EVENT_PREFIX, newestFirst: true, limit });
      return items.map(eventFrom);
    },
    async append(event) {
      const { state, keepUntil, ...rest } = event;
      const item: Item = {
        ...eventKey(state.appointmentId, event.seq),
        seq: rest.seq,
        ...state,
        records: rest.records.map(recordItem),
        requestKey: rest.requestKey,
        grants: rest.grants,
        // Kept the retention past the window (or its last record), and never dropped before an earlier event.
        expiresAt: Math.max(keepUntil ?? 0, Math.max(state.closesAt, ...rest.records.map((record) => record.at)) + retentionSeconds),
      };
      return table.put(item, 'attribute_not_exists(pk)');
    },
    async page(appointmentId, limit, after) {
      const { items, next } = await table.query({ pk: appointmentPartition(appointmentId), prefix: EVENT_PREFIX, newestFirst: true, limit, after });
      return { events: items.map(eventFrom), next };
    },
  };
}
