// The one thin DynamoDB layer every record kind is written through: the real table in AWS, the
// embedded dynalite locally and in tests, with the same AWS SDK v3 calls. Each call runs within
// a deadline; any failure but a lost condition is "store unavailable" (a 503, fail closed).
// Only single-item operations: the embedded store has no transactions, so atomicity comes from
// putting a change and its audit record in one item (docs/RELIABILITY.md, "One item, one truth").
import type { AwsClientConfig } from '../secret.ts';
import { deadlineSignal } from '../deadline.ts';
import { storeUnavailable } from '../errors.ts';

export type Item = Record<string, unknown>;
export type Key = { pk: string; sk: string };

export interface QueryPage {
  items: Item[];
  /** The last key read, when more may follow (DynamoDB's LastEvaluatedKey). */
  next: Key | undefined;
}

export interface Table {
  /** Strongly consistent. */
  get(key: Key): Promise<Item | undefined>;
  /** A PutItem: true when written, false when the condition did not hold. */
  put(item: Item, condition?: string, values?: Item): Promise<boolean>;
  /**
   * An UpdateItem: the item after the update, or undefined when the condition did not hold.
   * `once`: no SDK retry (a count must not be added twice when a slow first attempt lands after
   * its retry was sent): a lost answer is a 503 instead.
   */
  update(key: Key, update: { set: string; condition?: string; values: Item; names?: Record<string, string>; once?: boolean }): Promise<Item | undefined>;
  /** A DeleteItem: the item that was there, if any. */
  remove(key: Key): Promise<Item | undefined>;
  /** One page of a partition, strongly consistent: items whose sort key starts with `prefix` (or, with `upTo`, sorts at or before it). */
  query(query: { pk: string; prefix: string; upTo?: string | undefined; newestFirst: boolean; limit: number; after?: Key | undefined }): Promise<QueryPage>;
  /** Loads the SDK (no request): an environment a keep-warm ping started answers its first store call as a warm one would. */
  warmUp(): Promise<void>;
  /**
   * Loads the SDK and makes one read of an item that never exists (a GetItem: every function with
   * store access has it): the request pipeline, the credentials and the TLS connection are then
   * ready. Never throws (a failure leaves the first request to do it).
   */
  connect(): Promise<void>;
}

// The same budget as the Secrets Manager client: a hung or throttled store answers in < 2 s.
const SDK_CONNECTION_TIMEOUT_MS = 400;
const SDK_REQUEST_TIMEOUT_MS = 600;
const SDK_MAX_ATTEMPTS = 2;
export const STORE_DEADLINE_MS = 1_500;

/** A store on a developer's machine (the embedded dynalite): it checks neither credentials nor region, the SDK needs both. */
export const LOCAL_STORE_CLIENT = { region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } as const;

/** The item `connect` reads: nothing is ever written there. */
const WARM_UP_KEY: Key = { pk: 'WARM-UP', sk: 'WARM-UP' };

const isConditionFailure = (error: unknown): boolean => error instanceof Error && error.name === 'ConditionalCheckFailedException';

export function openTable(tableName: string, client: AwsClientConfig | undefined): Table {
  const TableName = tableName;
  // Loaded on first use: an ad-hoc token never touches the store, so it never pays for the SDK.
  type Clients = {
    lib: typeof import('@aws-sdk/lib-dynamodb');
    client: import('@aws-sdk/lib-dynamodb').DynamoDBDocumentClient;
    /** The same, without the SDK's retry. */
    onceClient: import('@aws-sdk/lib-dynamodb').DynamoDBDocumentClient;
  };
  let loaded: Promise<Clients> | undefined;
  const sdk = () => {
    loaded ??= Promise.all([import('@aws-sdk/client-dynamodb'), import('@aws-sdk/lib-dynamodb')]).then(([dynamodb, lib]) => {
      const documentClient = (maxAttempts: number) =>
        lib.DynamoDBDocumentClient.from(
          new dynamodb.DynamoDBClient({
            maxAttempts,
            requestHandler: { connectionTimeout: SDK_CONNECTION_TIMEOUT_MS, requestTimeout: SDK_REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true },
            ...client,
          }),
          { marshallOptions: { removeUndefinedValues: true } },
        );
      return { lib, client: documentClient(SDK_MAX_ATTEMPTS), onceClient: documentClient(1) };
    });
    return loaded;
  };

  /** Runs one store call within the deadline; a lost condition answers `onConditionFailure`, any other failure is "unavailable". */
  async function call<T>(operation: (signal: AbortSignal) => Promise<T>, onConditionFailure?: () => T): Promise<T> {
    // Counted in responsive time (lib/deadline.ts): a throttled CPU does not make it run out.
    const { signal, done } = deadlineSignal(STORE_DEADLINE_MS);
    try {
      return await operation(signal);
    } catch (error) {
      if (onConditionFailure && isConditionFailure(error)) return onConditionFailure();
      if (error instanceof Error && error.name === 'UnavailableError') throw error;
      throw storeUnavailable();
    } finally {
      done();
    }
  }

  return {
    async warmUp() {
      await sdk();
    },
    async connect() {
      try {
        const { lib, client } = await sdk();
        await call(async (abortSignal) => client.send(new lib.GetCommand({ TableName, Key: WARM_UP_KEY }), { abortSignal }));
      } catch {
        // Left to the first request, which loads and connects again (and answers 503 if it cannot).
      }
    },
    async get(key) {
      const { lib, client } = await sdk();
      return call(async (abortSignal) => (await client.send(new lib.GetCommand({ TableName, Key: key, ConsistentRead: true }), { abortSignal })).Item);
    },
    async put(item, condition, values) {
      const { lib, client } = await sdk();
      return call(
        async (abortSignal) => {
          await client.send(
            new lib.PutCommand({
              TableName,
              Item: item,
              ...(condition ? { ConditionExpression: condition } : {}),
              ...(values ? { ExpressionAttributeValues: values } : {}),
            }),
            { abortSignal },
          );
          return true;
        },
        () => false,
      );
    },
    async update(key, { set, condition, values, names, once }) {
      const { lib, client, onceClient } = await sdk();
      return call<Item | undefined>(
        async (abortSignal) =>
          (
            await (once ? onceClient : client).send(
              new lib.UpdateCommand({
                TableName,
                Key: key,
                UpdateExpression: set,
                ...(condition ? { ConditionExpression: condition } : {}),
                ExpressionAttributeValues: values,
                ...(names ? { ExpressionAttributeNames: names } : {}),
                ReturnValues: 'ALL_NEW',
              }),
              { abortSignal },
            )
          ).Attributes ?? {},
        () => undefined,
      );
    },
    async remove(key) {
      const { lib, client } = await sdk();
      return call(
        async (abortSignal) => (await client.send(new lib.DeleteCommand({ TableName, Key: key, ReturnValues: 'ALL_OLD' }), { abortSignal })).Attributes,
      );
    },
    async query({ pk, prefix, upTo, newestFirst, limit, after }) {
      const { lib, client } = await sdk();
      return call(async (abortSignal) => {
        const output = await client.send(
          new lib.QueryCommand({
            TableName,
            KeyConditionExpression: upTo === undefined ? 'pk = :pk AND begins_with(sk, :sk)' : 'pk = :pk AND sk <= :sk',
            ExpressionAttributeValues: { ':pk': pk, ':sk': upTo ?? prefix },
            ConsistentRead: true,
            ScanIndexForward: !newestFirst,
            Limit: limit,
            ...(after ? { ExclusiveStartKey: after } : {}),
          }),
          { abortSignal },
        );
        const last = output.LastEvaluatedKey;
        return {
          items: output.Items ?? [],
          next: last && typeof last.pk === 'string' && typeof last.sk === 'string' ? { pk: last.pk, sk: last.sk } : undefined,
        };
      });
    },
  };
}

/** Reads a stored item back field by field: anything that is not the shape we write is an outage, not data. */
export function fieldsOf(item: Item) {
  return {
    text(name: string): string {
      const value = item[name];
      if (typeof value !== 'string') throw storeUnavailable();
      return value;
    },
    number(name: string): number {
      const value = item[name];
      if (typeof value !== 'number' || !Number.isFinite(value)) throw storeUnavailable();
      return value;
    },
    optionalText(name: string): string | undefined {
      const value = item[name];
      if (value === undefined) return undefined;
      if (typeof value !== 'string') throw storeUnavailable();
      return value;
    },
    optionalNumber(name: string): number | undefined {
      const value = item[name];
      if (value === undefined) return undefined;
      if (typeof value !== 'number' || !Number.isFinite(value)) throw storeUnavailable();
      return value;
    },
  };
}
