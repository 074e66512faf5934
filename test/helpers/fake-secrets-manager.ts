// A loopback endpoint that speaks Secrets Manager's GetSecretValue (AWS JSON 1.1), so tests
// drive the real AWS SDK client end to end. Faults are switched per test.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault = 'none' | 'not-found' | 'denied' | 'throttled' | 'server-error' | 'hang' | 'bad-json' | 'binary';

export interface FakeSecretsManager {
  endpoint: string;
  calls: Array<{ target: string; secretId: string; versionStage: string | undefined }>;
  secrets: Map<string, string>;
  /** Secrets by version stage, for rotation tests (AWSPREVIOUS). */
  previous: Map<string, string>;
  fault: Fault;
  /** CreatedDate of the AWSCURRENT version, seconds since the epoch. */
  currentCreatedAt: number;
  close(): Promise<void>;
}

const ERRORS: Record<string, [number, string]> = {
  'not-found': [400, 'ResourceNotFoundException'],
  denied: [400, 'AccessDeniedException'],
  throttled: [400, 'ThrottlingException'],
  'server-error': [500, 'InternalServiceError'],
};

function reply(response: ServerResponse, status: number, body: string, errorType?: string): void {
  response.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'x-amzn-requestid': 'fake-request-id',
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  response.end(body);
}

export async function startFakeSecretsManager(): Promise<FakeSecretsManager> {
  const hung: ServerResponse[] = [];
  const fake: Omit<FakeSecretsManager, 'endpoint' | 'close'> = {
    calls: [],
    secrets: new Map(),
    previous: new Map(),
    fault: 'none',
    currentCreatedAt: Math.floor(Date.now() / 1000),
  };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const target = String(request.headers['x-amz-target'] ?? '');
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { SecretId?: string; VersionStage?: string };
      const secretId = input.SecretId ?? '';
      fake.calls.push({ target, secretId, versionStage: input.VersionStage });
      if (fake.fault === 'hang') {
        hung.push(response);
        return;
      }
      if (fake.fault === 'bad-json') return reply(response, 200, '{"SecretString": "unterminated');
      const error = ERRORS[fake.fault];
      if (error) return reply(response, error[0], JSON.stringify({ __type: error[1], message: 'fake failure' }), error[1]);
      if (target !== 'secretsmanager.GetSecretValue')
        return reply(response, 400, JSON.stringify({ __type: 'UnknownOperationException' }), 'UnknownOperationException');
      const stage = input.VersionStage ?? 'AWSCURRENT';
      const value = stage === 'AWSPREVIOUS' ? fake.previous.get(secretId) : fake.secrets.get(secretId);
      if (value === undefined) {
        return reply(response, 400, JSON.stringify({ __type: 'ResourceNotFoundException', message: 'not found' }), 'ResourceNotFoundException');
      }
      const body: Record<string, unknown> = {
        ARN: secretId,
        Name: 'jitsi',
        VersionId: `v-${stage}`,
        VersionStages: [stage],
        CreatedDate: stage === 'AWSPREVIOUS' ? fake.currentCreatedAt - 86_400 * 30 : fake.currentCreatedAt,
      };
      if (fake.fault === 'binary') body.SecretBinary = Buffer.from(value).toString('base64');
      else body.SecretString = value;
      reply(response, 200, JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of hung) response.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}

export const TEST_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:jitsi-app-secret-AbCdEf';

/** Environment for the real SDK against the fake: dummy credentials, the loopback endpoint. */
export function sdkEnvironment(endpoint: string): Record<string, string> {
  return {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'fake-secret-access-key-for-loopback-tests',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/** A deployed function's environment with its app secret in the fake (AUTH_MODE=none); overrides win. */
export function lambdaSecretEnvironment(endpoint: string, overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    ...sdkEnvironment(endpoint),
    AWS_LAMBDA_FUNCTION_NAME: 'f',
    JITSI_SECRET_ARN: TEST_SECRET_ARN,
    JITSI_APP_SECRET: undefined,
    AUTH_MODE: 'none',
    ...overrides,
  };
}
