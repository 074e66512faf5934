// Middleware: a form-encoded body (Prosody's reservation module posts its fields this way, as
// Jicofo did). POST only, application/x-www-form-urlencoded in UTF-8, at most maxBytes, no field
// twice, then the route's schema. The parsed input is left on the event as `input`.
import { InvalidRequestError } from '../errors.ts';
import { HttpProblem } from '../problem.ts';
import { parseRequest, type Infer, type RequestSchema } from '../schema.ts';
import { requireMethod, type EventWithInput } from './strict-json-body.ts';
import type { ApiMiddleware } from './types.ts';

export const MAX_FORM_BYTES = 4 * 1024;
const MEDIA_TYPE = /^\s*application\/x-www-form-urlencoded\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function formBody<S extends RequestSchema>(options: { schema: S; maxBytes?: number }): ApiMiddleware {
  const maxBytes = options.maxBytes ?? MAX_FORM_BYTES;
  return {
    before(request) {
      const { event } = request;
      requireMethod(event, 'POST');
      const contentType = event.headers?.['content-type'];
      const encoding = event.headers?.['content-encoding'];
      if (contentType === undefined || !MEDIA_TYPE.test(contentType) || (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity')) {
        throw new HttpProblem('unsupported-media-type', 'The request body must be form-encoded', {
          detail: 'Send Content-Type: application/x-www-form-urlencoded.',
        });
      }
      const raw = event.body ?? '';
      const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
      if (bytes.length > maxBytes)
        throw new HttpProblem('payload-too-large', 'The request body is too large', { detail: `The body must be at most ${maxBytes} bytes.` });
      let text: string;
      try {
        text = decoder.decode(bytes);
      } catch {
        throw new InvalidRequestError('The body is not valid UTF-8.');
      }
      const fields: Record<string, string> = {};
      for (const [name, value] of new URLSearchParams(text)) {
        if (Object.hasOwn(fields, name)) throw new InvalidRequestError('A field appears twice.');
        fields[name] = value;
      }
      (event as EventWithInput<Infer<S>>).input = parseRequest(options.schema, fields);
    },
  };
}
