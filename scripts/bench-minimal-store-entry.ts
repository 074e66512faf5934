// The floor for a function that uses the store: it only creates the Secrets Manager and DynamoDB
// clients and makes one call each (the secret, one consistent read), what every appointment
// route has to do at the least.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';

const timeouts = { maxAttempts: 2, requestHandler: { connectionTimeout: 400, requestTimeout: 600 } };
const secrets = new SecretsManagerClient(timeouts);
const dynamodb = new DynamoDBClient(timeouts);
const secret = secrets.send(new GetSecretValueCommand({ SecretId: process.env.BENCH_SECRET_ID }));

export const handler = async () => {
  const [{ SecretString }, { Item }] = await Promise.all([
    secret,
    dynamodb.send(new GetItemCommand({ TableName: process.env.BENCH_TABLE, Key: { pk: { S: 'APPT#bench' }, sk: { S: 'APPT' } }, ConsistentRead: true })),
  ]);
  return { statusCode: 200, body: String((SecretString?.length ?? 0) + (Item ? 1 : 0)) };
};
