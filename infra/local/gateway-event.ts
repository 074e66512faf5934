// An API Gateway HTTP API event (payload format 2.0), the one shape every place that invokes a
// handler outside AWS builds: the local server, the sam local events, the bench and the tests.
// Local only: never bundled into a function.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/** Where the request came from and which API took it: fixed per caller of this builder. */
export interface GatewayOrigin {
  accountId: string;
  apiId: string;
  domainName: string;
  domainPrefix: string;
  sourceIp: string;
  userAgent: string;
  protocol: string;
}

export interface GatewayRequest {
  /** `METHOD /path/{param}` as the route table declares it. */
  routeKey: string;
  /** The HTTP method the client used (the local server passes a refused one through). */
  method: string;
  rawPath: string;
  rawQueryString?: string;
  headers: Record<string, string>;
  cookies?: string[] | undefined;
  queryStringParameters?: Record<string, string> | undefined;
  pathParameters?: Record<string, string> | undefined;
  body?: string | undefined;
  isBase64Encoded?: boolean;
  requestId: string;
  /** requestContext.time as the caller formats it, and the same instant in milliseconds. */
  time: string;
  timeEpoch: number;
  /** The JWT authorizer's claims, when the route has a caller. */
  claims?: Record<string, unknown> | undefined;
}

export function gatewayEvent(origin: GatewayOrigin, request: GatewayRequest): APIGatewayProxyEventV2 {
  const { routeKey, rawPath } = request;
  const event = {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString: request.rawQueryString ?? '',
    headers: request.headers,
    ...(request.cookies ? { cookies: request.cookies } : {}),
    ...(request.queryStringParameters ? { queryStringParameters: request.queryStringParameters } : {}),
    requestContext: {
      accountId: origin.accountId,
      apiId: origin.apiId,
      domainName: origin.domainName,
      domainPrefix: origin.domainPrefix,
      http: { method: request.method, path: rawPath, protocol: origin.protocol, sourceIp: origin.sourceIp, userAgent: origin.userAgent },
      requestId: request.requestId,
      routeKey,
      stage: '$default',
      time: request.time,
      timeEpoch: request.timeEpoch,
      ...(request.claims ? { authorizer: { jwt: { claims: request.claims, scopes: null } } } : {}),
    },
    ...(request.pathParameters ? { pathParameters: request.pathParameters } : {}),
    ...(request.body !== undefined ? { body: request.body } : {}),
    isBase64Encoded: request.isBase64Encoded ?? false,
  };
  return event as unknown as APIGatewayProxyEventV2;
}
