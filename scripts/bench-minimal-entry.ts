// The floor for a cold start: a function that only creates the Secrets Manager client and
// fetches the secret, the part every design of this service has to do.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

const client = new SecretsManagerClient({ maxAttempts: 2, requestHandler: { connectionTimeout: 400, requestTimeout: 600 } });
const secret = client.send(new GetSecretValueCommand({ SecretId: process.env.BENCH_SECRET_ID }));

export const handler = async () => {
  const { SecretString } = await secret;
  return { statusCode: 200, body: String(SecretString?.length) };
};
