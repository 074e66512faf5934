// The shapes the HTTP middlewares share: the API Gateway v2 event and result, what a handler
// answers, and what the middlewares leave for each other on middy's request.internal.
import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import type { IssuedToken } from '../issue.ts';

export type ApiEvent = APIGatewayProxyEventV2;
export type ApiResult = APIGatewayProxyStructuredResultV2;

/** A JSON answer (200 unless said), with the tokens it carries so the access log can count them. */
export interface JsonReply {
  body: Record<string, unknown>;
  /** A success other than 200, or the reservation protocol's 409 with a conflict id. */
  status?: 200 | 201 | 409;
  tokens?: readonly IssuedToken[];
}

/** A public, cacheable text document (the RS256 public keys) instead of a JSON body. */
export interface TextReply {
  text: string;
  contentType: string;
  cacheControl: string;
}

export type Reply = JsonReply | TextReply;

/** What the middlewares record about one request. */
export interface ApiInternal extends Record<string, unknown> {
  requestId?: string;
  startedAt?: number;
  tokens?: readonly IssuedToken[];
  problemType?: string;
}

export type ApiRequest = middy.Request<ApiEvent, ApiResult, Error, Context, ApiInternal>;
export type ApiMiddleware = middy.MiddlewareObj<ApiEvent, ApiResult, Error, Context, ApiInternal>;

export const JSON_TYPE = 'application/json';
export const PROBLEM_TYPE = 'application/problem+json';

/** API Gateway's id for the request, else Lambda's, else a new one; the same for every middleware. */
export function requestIdOf(request: Pick<ApiRequest, 'event' | 'context' | 'internal'>): string {
  request.internal.requestId ??= request.event.requestContext?.requestId || request.context?.awsRequestId || randomUUID();
  return request.internal.requestId;
}
