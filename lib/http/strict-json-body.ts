// Middleware: the request envelope and body rules. The route's method only, JSON in UTF-8 without content
// coding, at most maxBytes, strict JSON (lib/json.ts), then the route's schema. The parsed input
// is left on the event as `input`. Our contract: 405, 415, 413, then 400 (the stock middy body
// parser and validator answer differently).
import { parseStrictJson } from '../json.ts';
import { HttpProblem } from '../problem.ts';
import { parseRequest, type Infer, type RequestSchema } from '../schema.ts';
import type { ApiEvent, ApiMiddleware } from './types.ts';

export const MAX_BODY_BYTES = 8 * 1024;

export type EventWithInput<T> = ApiEvent & { input: T };

const MEDIA_TYPE = /^\s*application\/json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** 405 with Allow when the method is not the route's (API Gateway routes by method; this is defence). */
export function requireMethod(event: ApiEvent, allowed: string): void {
  const method = event.requestContext?.http?.method ?? allowed;
  if (method !== allowed) throw new HttpProblem('method-not-allowed', `This endpoint accepts ${allowed} only`, { headers: { allow: allowed } });
}

/** The body's bytes, checked against the envelope rules. */
export function readJsonText(event: ApiEvent, maxBytes: number, method = 'POST'): string {
  requireMethod(event, method);
  const encoding = event.headers?.['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    throw new HttpProblem('unsupported-media-type', 'Compressed request bodies are not accepted', { detail: 'Send the JSON body without Content-Encoding.' });
  }
  const contentType = event.headers?.['content-type'];
  if (contentType === undefined || !MEDIA_TYPE.test(contentType)) {
    throw new HttpProblem('unsupported-media-type', 'The request body must be JSON', { detail: 'Send Content-Type: application/json (UTF-8).' });
  }
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > maxBytes) {
    throw new HttpProblem('payload-too-large', 'The request body is too large', { detail: `The body must be at most ${maxBytes} bytes.` });
  }
  if (bytes.length === 0) throw new HttpProblem('invalid-json', 'The request body is not acceptable JSON', { detail: 'The body is empty.' });
  try {
    return decoder.decode(bytes);
  } catch {
    throw new HttpProblem('invalid-json', 'The request body is not acceptable JSON', { detail: 'The body is not valid UTF-8.' });
  }
}

export interface StrictJsonBodyOptions<S extends RequestSchema> {
  schema: S;
  maxBytes?: number;
  /** The method that carries the body (POST unless the route says PATCH). */
  method?: string;
  /** Fields the schema does not name: refused (the default), or dropped unread (a sender that adds fields over time). */
  unknownFields?: 'refuse' | 'ignore';
}

export function strictJsonBody<S extends RequestSchema>(options: StrictJsonBodyOptions<S>): ApiMiddleware {
  const maxBytes = options.maxBytes ?? MAX_BODY_BYTES;
  return {
    before(request) {
      const input: Infer<S> = parseRequest(options.schema, parseStrictJson(readJsonText(request.event, maxBytes, options.method)), {
        unknownFields: options.unknownFields ?? 'refuse',
      });
      (request.event as EventWithInput<Infer<S>>).input = input;
    },
  };
}
