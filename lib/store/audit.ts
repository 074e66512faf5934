// The audit trail: an appointment's history (every change and token, lib/store/appointments.ts)
// and its refusals. A refusal is counted into one record per asker, reason and hour, so no
// asker, however many requests it sends, adds more than a few small records an hour: nobody can
// bury the members' records or grow the partition without bound. Counting is idempotent per
// request (the SDK's own retry of a lost answer does not count twice). Reading the trail merges
// both, newest first, a page at a time with a cursor; nothing is dropped.
//
//   APPT#<appointmentId> / R#<hour>#<reason>#<asker hash>   { actor, note, role?, count, at (first), lastAt, requestId (last) }
//   PROBES / <hour>#<reason>                                 the same for requests naming an appointment that does not exist
import { createHash } from 'node:crypto';
import { invalidField, storeUnavailable } from '../errors.ts';
import { appointmentPartition, type AppointmentEvent, type AppointmentHistory, type AuditRecord } from './appointments.ts';
import { fieldsOf, type Item, type Key, type Table } from './table.ts';

export interface TrailPage {
  /** Newest first. */
  records: AuditRecord[];
  /** Where the next page starts; undefined on the last page. */
  cursor: string | undefined;
}

export interface AuditTrail {
  /**
   * Counts a refusal into the record of `countedAs` (the asker, or a group of unauthenticated
   * askers) for its reason and hour. For an appointment that does not exist the same write goes
   * to one shared count of such probes per reason and hour, so both answer in the same time and
   * an unknown id leaves nothing of its own behind.
   */
  refused(record: AuditRecord, countedAs: string, appointmentExists: boolean): Promise<void>;
  /** Up to `limit` history events and refusal records, newest first, from where `cursor` left off. */
  page(appointmentId: string, limit: number, cursor: string | undefined): Promise<TrailPage>;
}

const REFUSAL_PREFIX = 'R#';
const HOUR = 3_600;
const hourOf = (seconds: number) => Math.floor(seconds / HOUR) * HOUR;
/** Asker ids are bounded (128 characters) but their hash keeps every key the same short length. */
const askerKey = (actor: string) => createHash('sha256').update(actor, 'utf8').digest('base64url').slice(0, 22);
const refusalKey = (appointmentId: string, at: number, note: string, countedAs: string) => ({
  pk: appointmentPartition(appointmentId),
  sk: `${REFUSAL_PREFIX}${String(hourOf(at)).padStart(11, '0')}#${note}#${askerKey(countedAs)}`,
});
/** Where a refusal record stands in the trail's order: the start of its hour (its key's order). */
const refusalHourOf = (sk: string) => Number(sk.slice(REFUSAL_PREFIX.length, REFUSAL_PREFIX.length + 11));

function refusalFrom(appointmentId: string, item: Item): AuditRecord {
  const fields = fieldsOf(item);
  const role = fields.optionalText('role');
  if (role !== undefined && role !== 'therapist' && role !== 'client') throw storeUnavailable();
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
  if (role !== undefined) record.role = role;
  return record;
}

interface Cursor {
  /** The last item each list gave out; null when nothing was taken from it yet, `end` when it is read to its end. */
  events: Key | null | 'end';
  refusals: Key | null | 'end';
}

const encodeCursor = (cursor: Cursor) => Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');

function decodeCursor(appointmentId: string, text: string): Cursor {
  const partition = appointmentPartition(appointmentId);
  const position = (value: unknown): Key | null | 'end' => {
    if (value === null || value === 'end') return value;
    const key = value as Partial<Key>;
    if (typeof key === 'object' && key.pk === partition && typeof key.sk === 'string' && key.sk.length < 400) return { pk: partition, sk: key.sk };
    throw invalidField('cursor', 'is not a cursor this trail gave out');
  };
  try {
    const parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<Cursor>;
    return { events: position(parsed.events), refusals: position(parsed.refusals) };
  } catch (error) {
    if (error instanceof Error && error.name === 'InvalidInputError') throw error;
    throw invalidField('cursor', 'is not a cursor this trail gave out');
  }
}

/** One item of either list: where it stands in time, its key (for the cursor) and its records. */
type Entry = { time: number; key: Key; records: AuditRecord[] };

export function openAuditTrail(table: Table, history: AppointmentHistory, retentionSeconds: number): AuditTrail {
  return {
    async refused(record, countedAs, appointmentExists) {
      const note = record.note ?? '-';
      const values: Item = {
        ':actor': record.actor,
        ':note': note,
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
      // Counted once per request: sent once (no SDK retry that a slow first attempt could land behind), and a
      // repeat that still arrives right after its first finds its own request id.
      const condition = 'attribute_not_exists(requestId) OR requestId <> :requestId';
      // An unknown id: the same update, into one shared count of probes per reason and hour (nothing per id), so
      // both take the same time and nothing grows with the ids tried.
      const key = appointmentExists
        ? refusalKey(record.appointmentId, record.at, note, countedAs)
        : { pk: 'PROBES', sk: `${String(hourOf(record.at)).padStart(11, '0')}#${note}` };
      await table.update(key, { set, values, names, condition, once: true });
    },
    async page(appointmentId, limit, cursorText) {
      const cursor: Cursor = cursorText === undefined ? { events: null, refusals: null } : decodeCursor(appointmentId, cursorText);
      const pk = appointmentPartition(appointmentId);
      const after = (position: Key | null | 'end') => (position === null || position === 'end' ? undefined : position);
      // A lookahead of `limit` from each list; the page takes the newest `limit` of both.
      const [events, refusals] = await Promise.all([
        cursor.events === 'end' ? { events: [] as AppointmentEvent[], next: undefined } : history.page(appointmentId, limit, after(cursor.events)),
        cursor.refusals === 'end'
          ? { items: [] as Item[], next: undefined }
          : table.query({ pk, prefix: REFUSAL_PREFIX, newestFirst: true, limit, after: after(cursor.refusals) }),
      ]);
      const eventEntries: Entry[] = events.events.map((event) => ({
        time: event.records[0]?.at ?? 0,
        key: { pk, sk: `E#${String(event.seq).padStart(10, '0')}` },
        records: [...event.records].reverse(),
      }));
      const refusalEntries: Entry[] = refusals.items.map((item) => ({
        time: refusalHourOf(String(item.sk)),
        key: { pk, sk: String(item.sk) },
        records: [refusalFrom(appointmentId, item)],
      }));
      // Both lists come newest first; merge them, events before refusals of the same time.
      const merged: Entry[] = [];
      let e = 0;
      let r = 0;
      while (merged.length < limit && (e < eventEntries.length || r < refusalEntries.length)) {
        const takeEvent = r >= refusalEntries.length || (e < eventEntries.length && eventEntries[e]!.time >= refusalEntries[r]!.time);
        merged.push(takeEvent ? eventEntries[e++]! : refusalEntries[r++]!);
      }
      // Each list goes on after the last entry the page took from it.
      const positionAfter = (taken: number, entries: Entry[], before: Key | null | 'end', more: boolean): Key | null | 'end' => {
        if (before === 'end') return 'end';
        if (taken === entries.length && !more) return 'end';
        return taken === 0 ? before : entries[taken - 1]!.key;
      };
      const next: Cursor = {
        events: positionAfter(e, eventEntries, cursor.events, events.next !== undefined),
        refusals: positionAfter(r, refusalEntries, cursor.refusals, refusals.next !== undefined),
      };
      return {
        records: merged.flatMap((entry) => entry.records),
        cursor: next.events === 'end' && next.refusals === 'end' ? undefined : encodeCursor(next),
      };
    },
  };
}
