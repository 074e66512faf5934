// The appointment store: one DynamoDB table, read and written with the AWS SDK v3 (the real
// table in AWS, the embedded dynalite locally and in tests). It holds ids, times and states
// only: never a name, an email or a token (audit records keep a token's hash).
//
// Items (pk / sk):
//   APPT#<appointmentId> / APPT   the appointment: therapist, client, window, status, version, room
//   ROOM#<room>          / ROOM   an immutable pointer from a room name to its appointment id
//   AUDIT#<appointmentId> / <time>#<sequence>#<n>#<random>   one audit record per decision
//   CONF#<conference id> / CONF   a room Prosody opened through the reservation API, until it closes
//   JOIN#<sha256 of code> / JOIN   a single-use join link (the code itself is never stored)
// Access decisions read the appointment with a strongly consistent GetItem. First creation
// and every change are conditional writes (the embedded store has no transactions, so the
// pointer is written before the appointment and never changes: a lost race leaves only an
// unused pointer, and a decision always checks that the appointment names the room).
import { randomBytes } from 'node:crypto';
import type { AwsClientConfig } from './secret.ts';
import { storeUnavailable } from './errors.ts';

export type AppointmentStatus = 'scheduled' | 'cancelled';

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
  /** Moves on every change; tokens carry the version they were issued for. */
  version: number;
  room: string;
  createdAt: number;
  updatedAt: number;
}

export type AuditAction =
  | 'created'
  | 'token-issued'
  | 'token-refreshed'
  | 'refused'
  | 'cancelled'
  | 'moved'
  | 'room-opened'
  | 'room-refused'
  | 'room-closed'
  | 'join-link-created'
  | 'join-link-used';

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
}

/** A room Prosody has opened through the reservation API. */
export interface Conference {
  id: string;
  /** The room name as Prosody sent it (`[tenant]room` for tenants). */
  name: string;
  room: string;
  appointmentId: string | undefined;
  /** The creator's address Prosody sent (an anonymous XMPP id, never a person's). */
  mailOwner: string;
  /** Seconds since the epoch. */
  openedAt: number;
  /** When the room must end (the appointment window's close, or the ad-hoc maximum). */
  endsAt: number;
}

export interface JoinCode {
  appointmentId: string;
  /** Seconds since the epoch. */
  expiresAt: number;
}

export interface AppointmentStore {
  /** Strongly consistent. */
  get(appointmentId: string): Promise<Appointment | undefined>;
  /** The appointment whose room this is (pointer cached: it never changes). */
  getByRoom(room: string): Promise<Appointment | undefined>;
  /** Creates it if no appointment has the id; false when one already exists (the caller re-reads). */
  create(appointment: Appointment): Promise<boolean>;
  /** Replaces it if its version is still `expectedVersion`; false when it moved on meanwhile. */
  replace(appointment: Appointment, expectedVersion: number): Promise<boolean>;
  audit(records: readonly AuditRecord[]): Promise<void>;
  /** The appointment's audit trail, oldest first. */
  trail(appointmentId: string): Promise<AuditRecord[]>;
  /** Records an opened room; false when one with that id is open already. */
  openConference(conference: Conference): Promise<boolean>;
  getConference(id: string): Promise<Conference | undefined>;
  /** Forgets an open room and returns it; undefined when there was none. */
  closeConference(id: string): Promise<Conference | undefined>;
  /** Stores a join code by its hash. */
  addJoinCode(codeHash: string, code: JoinCode): Promise<void>;
  /** Marks the code used if it is unused and unexpired (exactly one caller wins); its appointment, else undefined. */
  redeemJoinCode(codeHash: string, nowSeconds: number): Promise<string | undefined>;
  /** Loads the client (no request), so an environment a keep-warm ping started answers its first store call as a warm one would. */
  warmUp(): Promise<void>;
}

export interface StoreOptions {
  tableName: string;
  /** How long audit records and ended appointments are kept (DynamoDB TTL). */
  retentionDays: number;
  client?: AwsClientConfig;
}

// The same budget as the Secrets Manager client: a hung or throttled store answers in < 2 s.
const SDK_CONNECTION_TIMEOUT_MS = 400;
const SDK_REQUEST_TIMEOUT_MS = 600;
const SDK_MAX_ATTEMPTS = 2;
export const STORE_DEADLINE_MS = 1_500;

const appointmentKey = (appointmentId: string) => ({ pk: `APPT#${appointmentId}`, sk: 'APPT' });
const roomKey = (room: string) => ({ pk: `ROOM#${room}`, sk: 'ROOM' });
const conferenceKey = (id: string) => ({ pk: `CONF#${id}`, sk: 'CONF' });
const joinKey = (codeHash: string) => ({ pk: `JOIN#${codeHash}`, sk: 'JOIN' });
/** The partition holding one appointment's audit records (sort key: time, sequence, index, random). */
const auditPartition = (appointmentId: string) => `AUDIT#${appointmentId}`;

function conferenceFrom(item: Record<string, unknown> | undefined): Conference | undefined {
  if (item === undefined) return undefined;
  const { id, name, room, appointmentId, mailOwner, openedAt, endsAt } = item;
  if (
    typeof id !== 'string' ||
    typeof name !== 'string' ||
    typeof room !== 'string' ||
    typeof mailOwner !== 'string' ||
    typeof openedAt !== 'number' ||
    typeof endsAt !== 'number'
  ) {
    throw storeUnavailable();
  }
  return { id, name, room, appointmentId: typeof appointmentId === 'string' ? appointmentId : undefined, mailOwner, openedAt, endsAt };
}

/** The attributes of an appointment item, field by field (nothing else is stored). */
function toItem(appointment: Appointment, retentionSeconds: number): Record<string, unknown> {
  const item: Record<string, unknown> = {
    ...appointmentKey(appointment.appointmentId),
    appointmentId: appointment.appointmentId,
    therapistId: appointment.therapistId,
    clientId: appointment.clientId,
    startsAt: appointment.startsAt,
    durationMinutes: appointment.durationMinutes,
    opensAt: appointment.opensAt,
    closesAt: appointment.closesAt,
    status: appointment.status,
    version: appointment.version,
    room: appointment.room,
    createdAt: appointment.createdAt,
    updatedAt: appointment.updatedAt,
    expiresAt: appointment.closesAt + retentionSeconds,
  };
  if (appointment.tenant !== undefined) item.tenant = appointment.tenant;
  return item;
}

/** Reads an item back, refusing anything that is not the shape we write (a garbled answer is an outage, not data). */
function fromItem(item: Record<string, unknown> | undefined): Appointment | undefined {
  if (item === undefined) return undefined;
  const text = (name: string) => {
    const value = item[name];
    if (typeof value !== 'string') throw storeUnavailable();
    return value;
  };
  const number = (name: string) => {
    const value = item[name];
    if (typeof value !== 'number' || !Number.isFinite(value)) throw storeUnavailable();
    return value;
  };
  const status = text('status');
  if (status !== 'scheduled' && status !== 'cancelled') throw storeUnavailable();
  return {
    appointmentId: text('appointmentId'),
    tenant: typeof item.tenant === 'string' ? item.tenant : undefined,
    therapistId: text('therapistId'),
    clientId: text('clientId'),
    startsAt: number('startsAt'),
    durationMinutes: number('durationMinutes'),
    opensAt: number('opensAt'),
    closesAt: number('closesAt'),
    status,
    version: number('version'),
    room: text('room'),
    createdAt: number('createdAt'),
    updatedAt: number('updatedAt'),
  };
}

const isConditionFailure = (error: unknown): boolean => error instanceof Error && error.name === 'ConditionalCheckFailedException';

export function createDynamoStore(options: StoreOptions): AppointmentStore {
  const retentionSeconds = options.retentionDays * 86_400;
  const TableName = options.tableName;
  // Loaded on first use: an ad-hoc token never touches the store, so it never pays for the SDK.
  let loaded: Promise<{ lib: typeof import('@aws-sdk/lib-dynamodb'); client: import('@aws-sdk/lib-dynamodb').DynamoDBDocumentClient }> | undefined;
  const sdk = () => {
    loaded ??= Promise.all([import('@aws-sdk/client-dynamodb'), import('@aws-sdk/lib-dynamodb')]).then(([dynamodb, lib]) => ({
      lib,
      client: lib.DynamoDBDocumentClient.from(
        new dynamodb.DynamoDBClient({
          maxAttempts: SDK_MAX_ATTEMPTS,
          requestHandler: { connectionTimeout: SDK_CONNECTION_TIMEOUT_MS, requestTimeout: SDK_REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true },
          ...options.client,
        }),
        { marshallOptions: { removeUndefinedValues: true } },
      ),
    }));
    return loaded;
  };
  const roomPointers = new Map<string, string>();
  let auditSequence = 0;

  /** Runs one store call within the deadline; any failure but a lost condition is "unavailable". */
  async function call<T>(operation: (signal: AbortSignal) => Promise<T>, onConditionFailure?: () => T): Promise<T> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), STORE_DEADLINE_MS);
    try {
      return await operation(controller.signal);
    } catch (error) {
      if (onConditionFailure && isConditionFailure(error)) return onConditionFailure();
      if (error instanceof Error && error.name === 'UnavailableError') throw error;
      throw storeUnavailable();
    } finally {
      clearTimeout(timer);
    }
  }

  async function getItem(key: Record<string, string>): Promise<Record<string, unknown> | undefined> {
    const { lib, client } = await sdk();
    return call(async (abortSignal) => (await client.send(new lib.GetCommand({ TableName, Key: key, ConsistentRead: true }), { abortSignal })).Item);
  }

  /** A PutItem with a condition: true when written, false when the condition did not hold. */
  async function putIf(item: Record<string, unknown>, condition: string, values?: Record<string, unknown>): Promise<boolean> {
    const { lib, client } = await sdk();
    return call(
      async (abortSignal) => {
        await client.send(
          new lib.PutCommand({ TableName, Item: item, ConditionExpression: condition, ...(values ? { ExpressionAttributeValues: values } : {}) }),
          { abortSignal },
        );
        return true;
      },
      () => false,
    );
  }

  const store: AppointmentStore = {
    async warmUp() {
      await sdk();
    },
    async openConference(conference) {
      return putIf({ ...conferenceKey(conference.id), ...conference, expiresAt: conference.endsAt + 3_600 }, 'attribute_not_exists(pk)');
    },
    async getConference(id) {
      return conferenceFrom(await getItem(conferenceKey(id)));
    },
    async closeConference(id) {
      const { lib, client } = await sdk();
      const old = await call(
        async (abortSignal) =>
          (await client.send(new lib.DeleteCommand({ TableName, Key: conferenceKey(id), ReturnValues: 'ALL_OLD' }), { abortSignal })).Attributes,
      );
      return conferenceFrom(old);
    },
    async addJoinCode(codeHash, code) {
      // A code is random (256 bits): a collision would be a fault, so it is reported as one.
      if (!(await putIf({ ...joinKey(codeHash), ...code, used: false }, 'attribute_not_exists(pk)'))) throw storeUnavailable();
    },
    async redeemJoinCode(codeHash, nowSeconds) {
      const { lib, client } = await sdk();
      return call(
        async (abortSignal) => {
          const { Attributes } = await client.send(
            new lib.UpdateCommand({
              TableName,
              Key: joinKey(codeHash),
              UpdateExpression: 'SET used = :true, usedAt = :now',
              ConditionExpression: 'attribute_exists(pk) AND used = :false AND expiresAt > :now',
              ExpressionAttributeValues: { ':true': true, ':false': false, ':now': nowSeconds },
              ReturnValues: 'ALL_NEW',
            }),
            { abortSignal },
          );
          if (typeof Attributes?.appointmentId !== 'string') throw storeUnavailable();
          return Attributes.appointmentId;
        },
        () => undefined,
      );
    },
    async get(appointmentId) {
      return fromItem(await getItem(appointmentKey(appointmentId)));
    },
    async getByRoom(room) {
      let appointmentId = roomPointers.get(room);
      if (appointmentId === undefined) {
        const pointer = await getItem(roomKey(room));
        if (pointer === undefined) return undefined;
        if (typeof pointer.appointmentId !== 'string') throw storeUnavailable();
        appointmentId = pointer.appointmentId;
        roomPointers.set(room, appointmentId);
      }
      const appointment = await store.get(appointmentId);
      // A pointer left by a lost creation race names an appointment that has another room.
      return appointment?.room === room ? appointment : undefined;
    },
    async create(appointment) {
      // The pointer first: a lost race then leaves only an unused pointer (see the header).
      if (
        !(await putIf(
          { ...roomKey(appointment.room), appointmentId: appointment.appointmentId, expiresAt: appointment.closesAt + retentionSeconds },
          'attribute_not_exists(pk)',
        ))
      ) {
        throw storeUnavailable();
      }
      return putIf(toItem(appointment, retentionSeconds), 'attribute_not_exists(pk)');
    },
    async replace(appointment, expectedVersion) {
      return putIf(toItem(appointment, retentionSeconds), 'attribute_exists(pk) AND version = :expected', { ':expected': expectedVersion });
    },
    async audit(records) {
      if (records.length === 0) return;
      const { lib, client } = await sdk();
      const items = records.map((record, index) => ({
        PutRequest: {
          Item: {
            pk: auditPartition(record.appointmentId),
            // Time first (the trail reads in order), then a per-process sequence, then random bits:
            // two records never share a key, so none overwrites another.
            sk: `${String(record.at).padStart(11, '0')}#${String(++auditSequence).padStart(9, '0')}#${index}#${randomBytes(6).toString('base64url')}`,
            ...record,
            expiresAt: record.at + retentionSeconds,
          },
        },
      }));
      await call(async (abortSignal) => {
        const output = await client.send(new lib.BatchWriteCommand({ RequestItems: { [TableName]: items } }), { abortSignal });
        // An unprocessed audit record means the decision is not recorded: fail closed.
        if (Object.keys(output.UnprocessedItems ?? {}).length > 0) throw storeUnavailable();
      });
    },
    async trail(appointmentId) {
      const { lib, client } = await sdk();
      const items = await call(
        async (abortSignal) =>
          (
            await client.send(
              new lib.QueryCommand({
                TableName,
                KeyConditionExpression: 'pk = :pk',
                ExpressionAttributeValues: { ':pk': auditPartition(appointmentId) },
                ConsistentRead: true,
                Limit: 1000,
              }),
              { abortSignal },
            )
          ).Items ?? [],
      );
      return items.map((item) => {
        const record: AuditRecord = {
          appointmentId,
          at: Number(item.at),
          action: item.action as AuditAction,
          actor: String(item.actor),
          requestId: String(item.requestId),
        };
        if (typeof item.role === 'string') record.role = item.role as AuditRecord['role'];
        if (typeof item.tokenHash === 'string') record.tokenHash = item.tokenHash;
        if (typeof item.note === 'string') record.note = item.note;
        return record;
      });
    },
  };
  return store;
}

/** The table's key schema and TTL attribute: the stack and the embedded store make the same table. */
export const TABLE_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
} as const;
