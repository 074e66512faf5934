// What Jitsi reported about an appointment's room: one item per occupant's stay (Prosody's
// occupant_jid: a reconnect is a new stay), holding the member's id and times only, never a
// name or an email; when the room was last destroyed; and the appointments whose outcome is
// still to be told once their window closes. Every write is an idempotent upsert, so Prosody's
// retries, duplicates and out-of-order deliveries give the same items. Ad-hoc rooms are only
// counted, per day.
//
//   APPT#<appointmentId> / O#<hash of occupant_jid>   { userId?, joinedAt, leftAt?, breakout, joinTold?, leftTold? }
//   APPT#<appointmentId> / ROOM                       { closedAt }  (the latest room/destroyed)
//   OUTCOMES / <dueAt>#<appointmentId>                { closesAt }: an outcome to decide once its window has closed
//   STATS#<day> / ADHOC                               { <event>: count }
import { createHash } from 'node:crypto';
import type { OccupantSession } from '../attendance.ts';
import { appointmentPartition } from './appointments.ts';
import { fieldsOf, type Item, type Key, type Table } from './table.ts';

export interface OccupantReport {
  appointmentId: string;
  occupantJid: string;
  userId: string | undefined;
  joinedAt: number;
  leftAt: number | undefined;
  breakout: boolean;
}

/** An outcome waiting in the queue. */
export interface DueOutcome {
  appointmentId: string;
  closesAt: number;
  dueAt: number;
}

export interface AttendanceStore {
  /** Records a stay (joined, left, or both; a leave already known is kept); answers whether its join and leave were told already. */
  upsert(report: OccupantReport): Promise<{ joined: boolean; left: boolean }>;
  /** Remembers that a stay's join or leave went on the trail (and to the platform). */
  told(appointmentId: string, occupantJid: string, what: 'joined' | 'left'): Promise<void>;
  /** Remembers when the room was last destroyed. */
  roomClosed(appointmentId: string, closedAt: number): Promise<void>;
  /** Every stay and the room's last close (one query: an appointment has few). */
  read(appointmentId: string): Promise<{ sessions: OccupantSession[]; roomClosedAt: number | undefined }>;
  /** Counts an event for an ad-hoc room (nothing about who). */
  countAdhoc(event: string, at: number): Promise<void>;
  /** An appointment whose outcome is told once its window closes at `closesAt` (at `dueAt`, when that is later: a retry). */
  awaitOutcome(appointmentId: string, closesAt: number, dueAt?: number): Promise<void>;
  /** The outcomes due by `now`, oldest first (at most `limit`). */
  dueOutcomes(now: number, limit: number): Promise<DueOutcome[]>;
  outcomeTold(entry: DueOutcome): Promise<void>;
}

const OCCUPANT_PREFIX = 'O#';
const occupantKey = (appointmentId: string, occupantJid: string) => ({
  pk: appointmentPartition(appointmentId),
  sk: `${OCCUPANT_PREFIX}${createHash('sha256').update(occupantJid, 'utf8').digest('base64url').slice(0, 22)}`,
});
const roomKey = (appointmentId: string) => ({ pk: appointmentPartition(appointmentId), sk: 'ROOM' });
const OUTCOMES = 'OUTCOMES';
const outcomeKey = (appointmentId: string, dueAt: number) => ({ pk: OUTCOMES, sk: `${String(dueAt).padStart(11, '0')}#${appointmentId}` });

function sessionFrom(item: Item): OccupantSession {
  const fields = fieldsOf(item);
  return {
    occupantKey: fields.text('sk'),
    userId: fields.optionalText('userId'),
    joinedAt: fields.number('joinedAt'),
    leftAt: fields.optionalNumber('leftAt'),
  };
}

export function openAttendance(table: Table, retentionSeconds: number): AttendanceStore {
  return {
    async upsert(report) {
      const values: Item = { ':joinedAt': report.joinedAt, ':breakout': report.breakout, ':expiresAt': report.joinedAt + retentionSeconds };
      let set = 'SET joinedAt = :joinedAt, breakout = :breakout, expiresAt = :expiresAt';
      if (report.userId !== undefined) {
        set += ', userId = :userId';
        values[':userId'] = report.userId;
      }
      const key = occupantKey(report.appointmentId, report.occupantJid);
      const toldOf = (item: Item | undefined) => ({ joined: item?.joinTold === true, left: item?.leftTold === true });
      if (report.leftAt === undefined) return toldOf(await table.update(key, { set, values }));
      // A leave Prosody reported is kept; a later report (room destroyed) never moves it.
      values[':leftAt'] = report.leftAt;
      const written = await table.update(key, { set: `${set}, leftAt = :leftAt`, values, condition: 'attribute_not_exists(leftAt) OR leftAt > :leftAt' });
      return toldOf(written ?? (await table.update(key, { set, values: withoutLeft(values) })));
    },
    async told(appointmentId, occupantJid, what) {
      await table.update(occupantKey(appointmentId, occupantJid), {
        set: `SET ${what === 'joined' ? 'joinTold' : 'leftTold'} = :true`,
        values: { ':true': true },
        condition: 'attribute_exists(pk)',
      });
    },
    async roomClosed(appointmentId, closedAt) {
      await table.update(roomKey(appointmentId), {
        set: 'SET closedAt = :closedAt, expiresAt = :expiresAt',
        values: { ':closedAt': closedAt, ':expiresAt': closedAt + retentionSeconds },
        condition: 'attribute_not_exists(closedAt) OR closedAt < :closedAt',
      });
    },
    async read(appointmentId) {
      const sessions: OccupantSession[] = [];
      let after: Key | undefined;
      do {
        const page = await table.query({ pk: appointmentPartition(appointmentId), prefix: OCCUPANT_PREFIX, newestFirst: false, limit: 500, after });
        sessions.push(...page.items.map(sessionFrom));
        after = page.next;
      } while (after !== undefined);
      const room = await table.get(roomKey(appointmentId));
      return { sessions, roomClosedAt: room === undefined ? undefined : fieldsOf(room).optionalNumber('closedAt') };
    },
    async countAdhoc(event, at) {
      const day = new Date(at * 1000).toISOString().slice(0, 10);
      await table.update(
        { pk: `STATS#${day}`, sk: 'ADHOC' },
        {
          set: 'SET #event = if_not_exists(#event, :zero) + :one, expiresAt = :expiresAt',
          values: { ':zero': 0, ':one': 1, ':expiresAt': at + 400 * 86_400 },
          names: { '#event': event },
        },
      );
    },
    async awaitOutcome(appointmentId, closesAt, dueAt = closesAt) {
      await table.put({ ...outcomeKey(appointmentId, dueAt), appointmentId, closesAt, dueAt, expiresAt: dueAt + retentionSeconds });
    },
    async dueOutcomes(now, limit) {
      const page = await table.query({ pk: OUTCOMES, prefix: '', upTo: `${String(now).padStart(11, '0')}#~`, newestFirst: false, limit });
      return page.items.map((item) => {
        const fields = fieldsOf(item);
        return {
          appointmentId: fields.text('appointmentId'),
          closesAt: fields.number('closesAt'),
          dueAt: fields.optionalNumber('dueAt') ?? fields.number('closesAt'),
        };
      });
    },
    async outcomeTold(entry) {
      await table.remove(outcomeKey(entry.appointmentId, entry.dueAt));
    },
  };
}

const withoutLeft = (values: Item): Item => Object.fromEntries(Object.entries(values).filter(([name]) => name !== ':leftAt'));
