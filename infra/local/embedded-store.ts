// The embedded appointment store for `npm start` and the tests: dynalite, which speaks
// DynamoDB's HTTP API, in this process on loopback, so the service's own AWS SDK calls run
// against it exactly as against DynamoDB. Data in a folder (LevelDB) or in memory. Local only.
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SETTINGS } from '#lib/config';
import type { AwsClientConfig } from '#lib/secret';
import { TABLE_SCHEMA } from '#lib/store';
import { LOCAL_STORE_CLIENT } from '#lib/store/table';

type Dynalite = (options: { path?: string; createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;
const dynalite = createRequire(import.meta.url)('dynalite') as Dynalite;

export interface EmbeddedStore {
  /** What the service's DynamoDB client is pointed at. */
  client: AwsClientConfig & { endpoint: string };
  close(): Promise<void>;
}

/** The store folder is held by another process (LevelDB allows one): said in words, not as a crash. */
export class StoreInUseError extends Error {
  override name = 'StoreInUseError';
}

/**
 * One process per store folder: a lock file beside it with the holder's pid. A second `npm start`
 * in the same checkout is told what holds the folder and how to run side by side, instead of
 * dynalite crashing with "Database is closed". A lock whose process is gone is taken over.
 */
function lockFolder(folder: string): () => void {
  const lockFile = `${folder}.lock`;
  mkdirSync(dirname(folder), { recursive: true });
  // The store holds appointments and their trail: the owner's alone, whatever the umask.
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  chmodSync(folder, 0o700);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => rmSync(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(lockFile, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isRunning(holder)) {
        throw new StoreInUseError(
          `the store folder ${folder} is in use by process ${holder} (another npm start in this checkout?). Stop it, or run a second one beside it with ${SETTINGS.port.variable}=<another port> and ${SETTINGS.localStore.variable}=memory (or ${SETTINGS.localStore.variable}=<another folder>).`,
        );
      }
      rmSync(lockFile, { force: true });
    }
  }
  throw new StoreInUseError(`the store folder ${folder} could not be locked`);
}

const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * `listen`: where it serves, when functions outside this process use it too (sam local's
 * containers, LOCAL_STORE_PORT); by default a loopback port of its own.
 */
export async function startEmbeddedStore(
  location: string,
  cwd: string = process.cwd(),
  listen: { host: string; port: number } = { host: '127.0.0.1', port: 0 },
): Promise<EmbeddedStore> {
  const folder = location === 'memory' ? undefined : resolve(cwd, location);
  const unlock = folder === undefined ? () => {} : lockFolder(folder);
  const server = dynalite({ ...(folder === undefined ? {} : { path: folder }), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((done, fail) => {
    server.once('error', (error) => {
      unlock();
      fail(error);
    });
    server.listen(listen.port, listen.host, () => done());
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    client: { ...LOCAL_STORE_CLIENT, endpoint: `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}` },
    close: () =>
      new Promise<void>((done) =>
        server.close(() => {
          unlock();
          done();
        }),
      ),
  };
}

/** Creates the table the stack creates (same keys), if it is not there yet. */
export async function ensureTable(client: AwsClientConfig, tableName: string): Promise<void> {
  const { CreateTableCommand, DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const dynamodb = new DynamoDBClient(client);
  try {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: TABLE_SCHEMA.partitionKey, AttributeType: 'S' },
          { AttributeName: TABLE_SCHEMA.sortKey, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_SCHEMA.sortKey, KeyType: 'RANGE' },
        ],
      }),
    );
  } catch (error) {
    if (!(error instanceof Error && error.name === 'ResourceInUseException')) throw error;
  } finally {
    dynamodb.destroy();
  }
}
