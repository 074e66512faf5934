// Middleware: a caller that proves itself with a static bearer key (Prosody's reservation
// module sends it in reservations_api_headers). Compared in constant time, on hashes of equal
// length; a missing or wrong key is 401.
import { createHash, timingSafeEqual } from 'node:crypto';
import { UnauthenticatedError } from '../errors.ts';
import type { ApiMiddleware } from './types.ts';

const digest = (value: Buffer | string) => createHash('sha256').update(value).digest();

export function bearerKey(options: { key: () => Promise<Buffer>; name?: string }): ApiMiddleware {
  const refusal = `A valid ${options.name ?? 'reservation API key'} (Authorization: Bearer) is required.`;
  return {
    async before(request) {
      // The key is loaded first, so a key that cannot be loaded is a 503, not a refusal.
      const expected = digest(await options.key());
      const presented = /^Bearer (\S{1,512})$/.exec(request.event.headers?.authorization ?? '')?.[1];
      if (presented === undefined || !timingSafeEqual(digest(presented), expected)) {
        throw new UnauthenticatedError(refusal);
      }
    },
  };
}
