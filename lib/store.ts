// The appointment store: one DynamoDB table (the real table in AWS, the embedded dynalite
// locally and in tests), one small module per record kind over one thin layer (lib/store/):
//   appointments  each appointment's history: every change and token, its state and its audit records in one item
//   rooms         an immutable pointer from a room name to its appointment
//   audit         refusals, counted per asker, reason and day; the trail's pages
//   conferences   ad-hoc rooms Prosody opened (an appointment's open room is in its history)
//   join codes    single-use join links, by the code's hash
//   attendance    who was in an appointment's room and when (ids and times), as Jitsi reported it
//   public keys   RS256 mode: the public keys the signing functions published, each served while its tokens may be valid
// It holds ids, times and states only: never a name, an email or a token.
import type { AwsClientConfig } from './secret.ts';
import { openAppointmentHistory, type AppointmentHistory } from './store/appointments.ts';
import { openAttendance, type AttendanceStore } from './store/attendance.ts';
import { openAuditTrail, type AuditTrail } from './store/audit.ts';
import { openAdhocConferences, type AdhocConferences } from './store/conferences.ts';
import { openJoinCodes, type JoinCodes } from './store/join-codes.ts';
import { openPublicKeyRecords, type PublicKeyRecords } from './store/public-keys.ts';
import { openRoomPointers, type RoomPointers } from './store/rooms.ts';
import { openTable } from './store/table.ts';

export type {
  Appointment,
  AppointmentEvent,
  AppointmentStatus,
  AuditAction,
  AuditRecord,
  Grant,
  OpenConference,
  SessionOutcome,
} from './store/appointments.ts';
export type { AdhocConference } from './store/conferences.ts';
export type { JoinCode } from './store/join-codes.ts';
export type { TrailPage } from './store/audit.ts';
export { STORE_DEADLINE_MS } from './store/table.ts';

export interface AppointmentStore {
  appointments: AppointmentHistory;
  rooms: RoomPointers;
  audit: AuditTrail;
  conferences: AdhocConferences;
  joinCodes: JoinCodes;
  attendance: AttendanceStore;
  publicKeys: PublicKeyRecords;
  /** Loads the client (no request), so an environment a keep-warm ping started answers its first store call as a warm one would. */
  warmUp(): Promise<void>;
  /** Loads the client and opens its connection with one read of nothing (a GetItem): a function's init phase does this. */
  connect(): Promise<void>;
}

export interface StoreOptions {
  tableName: string;
  /** How long audit records and ended appointments are kept (DynamoDB TTL). */
  retentionDays: number;
  client?: AwsClientConfig;
}

export function createDynamoStore(options: StoreOptions): AppointmentStore {
  const retentionSeconds = options.retentionDays * 86_400;
  const table = openTable(options.tableName, options.client);
  const appointments = openAppointmentHistory(table, retentionSeconds);
  return {
    appointments,
    rooms: openRoomPointers(table),
    audit: openAuditTrail(table, appointments, retentionSeconds),
    conferences: openAdhocConferences(table),
    joinCodes: openJoinCodes(table),
    attendance: openAttendance(table, retentionSeconds),
    publicKeys: openPublicKeyRecords(table),
    warmUp: () => table.warmUp(),
    connect: () => table.connect(),
  };
}

/** The table's key schema and TTL attribute: the stack and the embedded store make the same table. */
export const TABLE_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
} as const;
