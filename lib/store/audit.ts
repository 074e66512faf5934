// The audit trail: an appointment's history (every change and token, lib/store/appointments.ts)
// and its refusals. A refusal is counted into one record per asker, reason and day, so no asker,
// however many requests it sends, adds more than a few small records: nobody can bury the
// members' records or grow the partition without bound. Reading the trail pages through both,
// newest first, with a cursor; nothing is dropped.
//
//   APPT#<appointmentId> / R#<day>#<reason>#<asker>   { actor, note, role?, count, at (first), lastAt, requestId (last) }
import { createHash } from 'node:crypto';
import { invalidField, storeUnavailable } from '../errors.ts';
import { appointmentPartition, type AppointmentHistory, type AuditRecord } from './appointments.ts';
import { fieldsOf, type Item, type Key, type Table } from './table.ts';

export interface TrailPage {
  /** Newest first. */
  records: AuditRecord[];
  /** Where the next page starts; undefined on the last page. */
  cursor: string | undefined;
}

export interface AuditTrail {
  /**
   * Counts a refusal into its asker's record. For an appointment that does not exist the same
   * write is sent with a condition that cannot hold, so both answer in the same time and an
   * unknown id leaves nothing behind.
   */
  refused(record: AuditRecord, appointmentExists: boolean): Promise<void>;
  page(appointmentId: string, limit: number, cursor: string | undefined): Promise<TrailPage>;
}

const REFUSAL_PREFIX = 'R#';
const day = (seconds: number) => new Date(seconds * 1000).toISOString().slice(0, 10);
/** Asker ids are bounded (128 characters) but their hash keeps every key the same short length. */
const askerKey = (actor: string) => createHash('sha256').update(actor, 'utf8').digest('base64url').slice(0, 22);

function refusalFrom(appointmentId: string, item: Item): AuditRecord {
  const fields = fieldsOf(item);
  const role = fields.optionalText('role');
  const record: AuditRecord = {
    appointmentId,
    at: fields.number('at'),
    action: 'refused',
    actor: fields.text('actor'),
    requestId: fields.text('requestId'),
    note: fields.text('note'),
    count: fields.number('count'),
    lastAt: fields.number('lastAt'),
  };
  if (role === 'therapist' || role === 'client') record.role = role;
  return record;
}

interface Cursor {
  /** Where each list goes on; null when it is read to its end. */
  events: Key | null;
  refusals: Key | null;
}

const encodeCursor = (cursor: Cursor) => Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');

function decodeCursor(appointmentId: string, text: string): Cursor {
  const partition = appointmentPartition(appointmentId);
  const keyOrNull = (value: unknown): Key | null => {
    if (value === null) return null;
    const key = value as Partial<Key>;
    if (typeof key === 'object' && key.pk === partition && typeof key.sk === 'string' && key.sk.length < 400) return { pk: partition, sk: key.sk };
    throw invalidField('cursor', 'is not a cursor this trail gave out');
  };
  try {
    const parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<Cursor>;
    return { events: keyOrNull(parsed.events), refusals: keyOrNull(parsed.refusals) };
  } catch (error) {
    if (error instanceof Error && error.name === 'InvalidInputError') throw error;
    throw invalidField('cursor', 'is not a cursor this trail gave out');
  }
}

export function openAuditTrail(table: Table, history: AppointmentHistory, retentionSeconds: number): AuditTrail {
  return {
    async refused(record, appointmentExists) {
      const key = { pk: appointmentPartition(record.appointmentId), sk: `${REFUSAL_PREFIX}${day(record.at)}#${record.note ?? '-'}#${askerKey(record.actor)}` };
      const values: Item = {
        ':actor': record.actor,
        ':note': record.note ?? '-',
        ':at': record.at,
        ':requestId': record.requestId,
        ':expiresAt': record.at + retentionSeconds,
        ':one': 1,
        ':zero': 0,
      };
      let set =
        'SET actor = :actor, note = :note, #at = if_not_exists(#at, :at), lastAt = :at, requestId = :requestId, expiresAt = :expiresAt, #count = if_not_exists(#count, :zero) + :one';
      if (record.role !== undefined) {
        set += ', #role = :role';
        values[':role'] = record.role;
      }
      const names: Record<string, string> = { '#at': 'at', '#count': 'count', ...(record.role !== undefined ? { '#role': 'role' } : {}) };
      // An unknown appointment: the same request, refused by its condition (no record for an id that names nothing).
      const written = await table.update(key, { set, values, names, ...(appointmentExists ? {} : { condition: 'attribute_exists(pk)' }) });
      if (appointmentExists && written === undefined) throw storeUnavailable();
    },
    async page(appointmentId, limit, cursorText) {
      const cursor: Cursor = cursorText === undefined ? { events: null, refusals: null } : decodeCursor(appointmentId, cursorText);
      const first = cursorText === undefined;
      const pk = appointmentPartition(appointmentId);
      const [events, refusals] = await Promise.all([
        first || cursor.events !== null ? history.page(appointmentId, limit, cursor.events ?? undefined) : { events: [], next: undefined },
        first || cursor.refusals !== null
          ? table.query({ pk, prefix: REFUSAL_PREFIX, newestFirst: true, limit, after: cursor.refusals ?? undefined })
          : { items: [], next: undefined },
      ]);
      // Each event's records newest first, then both lists merged by time (a stable sort keeps an event's order).
      const records = [
        ...events.events.flatMap((event) => [...event.records].reverse()),
        ...refusals.items.map((item) => refusalFrom(appointmentId, item)),
      ].sort((a, b) => (b.lastAt ?? b.at) - (a.lastAt ?? a.at));
      const eventsNext = events.next ?? null;
      const refusalsNext = refusals.next ?? null;
      return { records, cursor: eventsNext === null && refusalsNext === null ? undefined : encodeCursor({ events: eventsNext, refusals: refusalsNext }) };
    },
  };
}
