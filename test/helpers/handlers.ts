// Loads the real handler modules with a given environment: settings are read once per module
// graph, so each call resets the graph first.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { vi } from 'vitest';
import { SETTING_VARIABLES } from '../../lib/config.ts';

export type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

export const TEST_APP_SECRET = 'handler-test-app-secret-handler-test-app-secret';

export const BASE_ENV: Record<string, string | undefined> = {
  // Every setting starts unset, so no test inherits another's configuration.
  ...Object.fromEntries(SETTING_VARIABLES.map((name) => [name, undefined])),
  JITSI_DOMAIN: 'meet.example.test',
  JITSI_APP_ID: 'test-app',
  JITSI_APP_SECRET: TEST_APP_SECRET,
  JITSI_SUB: undefined,
  JITSI_AUDIENCE: undefined,
  JITSI_SECRET_ARN: undefined,
  AUTH_MODE: 'none',
  AWS_LAMBDA_FUNCTION_NAME: undefined,
  AWS_SAM_LOCAL: undefined,
  CORS_ORIGINS: undefined,
};

export function applyEnv(env: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}

export async function loadHandlers(env: Record<string, string | undefined> = {}) {
  applyEnv({ ...BASE_ENV, ...env });
  vi.resetModules();
  const [generate, create, validate, refresh, keys, service] = await Promise.all([
    import('../../functions/generate-token.ts'),
    import('../../functions/create-room.ts'),
    import('../../functions/validate-token.ts'),
    import('../../functions/refresh-token.ts'),
    import('../../functions/jitsi-keys.ts'),
    import('../../lib/service.ts'),
  ]);
  return {
    generateToken: generate.handler as unknown as Handler,
    createRoom: create.handler as unknown as Handler,
    validateToken: validate.handler as unknown as Handler,
    refreshToken: refresh.handler as unknown as Handler,
    jitsiKeys: keys.handler as unknown as Handler,
    settings: service.settings,
  };
}

let counter = 0;
export const lambdaContext = (): Context => ({ awsRequestId: `req-${++counter}`, functionName: 'test', callbackWaitsForEmptyEventLoop: false }) as Context;

export function apiEvent(path: string, body: unknown, options: { headers?: Record<string, string>; claims?: Record<string, unknown>; method?: string; rawBody?: string } = {}): APIGatewayProxyEventV2 {
  const event = {
    version: '2.0',
    routeKey: `POST ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...options.headers },
    requestContext: {
      accountId: '123456789012', apiId: 'api', domainName: 'api.example.test', domainPrefix: 'api',
      http: { method: options.method ?? 'POST', path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: `evt-${++counter}`, routeKey: `POST ${path}`, stage: '$default', time: new Date().toUTCString(), timeEpoch: Date.now(),
      ...(options.claims ? { authorizer: { jwt: { claims: options.claims, scopes: null } } } : {}),
    },
    body: options.rawBody ?? JSON.stringify(body),
    isBase64Encoded: false,
  };
  return event as APIGatewayProxyEventV2;
}

export const json = (result: APIGatewayProxyStructuredResultV2): any => JSON.parse(result.body ?? 'null');
