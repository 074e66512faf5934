// Middleware: the headers every response carries, errors included (so browsers can read
// problems): no caching of credentials, security headers, the request id, CORS.
import { corsResponseHeaders } from '../cors.ts';
import { requestIdOf, type ApiMiddleware, type ApiRequest } from './types.ts';

export interface ResponseHeadersOptions {
  corsOrigins: readonly string[];
}

export function responseHeaders(options: ResponseHeadersOptions): ApiMiddleware {
  const addHeaders = (request: ApiRequest) => {
    const response = request.response;
    if (response === undefined || response === null) return;
    // One object literal of a fixed shape: this runs on every request.
    const headers: Record<string, string | number | boolean> = {
      'content-type': '',
      // Token responses are bearer credentials: no cache may keep them.
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'strict-transport-security': 'max-age=63072000; includeSubDomains',
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
      'x-request-id': requestIdOf(request),
      vary: 'origin',
    };
    const origin = request.event.headers?.origin;
    if (origin !== undefined) Object.assign(headers, corsResponseHeaders(origin, options.corsOrigins));
    response.headers = response.headers ? Object.assign(headers, response.headers) : headers;
  };
  return { after: addHeaders, onError: addHeaders };
}
