// The embedded appointment store for `npm start` and the tests: dynalite, which speaks
// DynamoDB's HTTP API, in this process on loopback, so the service's own AWS SDK calls run
// against it exactly as against DynamoDB. Data in a folder (LevelDB) or in memory. Local only.
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { AwsClientConfig } from '#lib/secret';
import { TABLE_SCHEMA } from '#lib/store';

type Dynalite = (options: { path?: string; createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;
const dynalite = createRequire(import.meta.url)('dynalite') as Dynalite;

export interface EmbeddedStore {
  /** What the service's DynamoDB client is pointed at. */
  client: AwsClientConfig & { endpoint: string };
  close(): Promise<void>;
}

/** Fixed credentials and region: dynalite checks neither, the SDK needs both. */
const LOCAL_CLIENT = { region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

export async function startEmbeddedStore(location: string, cwd: string = process.cwd()): Promise<EmbeddedStore> {
  const server = dynalite({ ...(location === 'memory' ? {} : { path: resolve(cwd, location) }), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => done());
  });
  const { port } = server.address() as AddressInfo;
  return {
    client: { ...LOCAL_CLIENT, endpoint: `http://127.0.0.1:${port}` },
    close: () => new Promise<void>((done) => server.close(() => done())),
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
