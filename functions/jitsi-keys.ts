// GET /api/jitsi/keys/{keyFile}: RS256 ("ASAP") mode's public keys, where Prosody's
// asap_key_server fetches them: `<hex(sha256(kid))>.pem`, current and previous. Public and
// cacheable; 404 in HS256 mode and for any other name.
import { createApiHandler } from '#lib/http';
import { HttpProblem } from '#lib/problem';
import { logger, publicKeyFile, settings } from '#lib/service';

const KEY_FILE = /^[0-9a-f]{64}\.pem$/;

export const handler = createApiHandler({
  route: 'jitsi-keys',
  method: 'GET',
  schema: {},
  settings,
  logger,
  async handle({ event }) {
    const keyFile = event.pathParameters?.keyFile ?? '';
    const pem = KEY_FILE.test(keyFile) ? await publicKeyFile(keyFile) : undefined;
    if (pem === undefined) throw new HttpProblem('not-found', 'No such key', { detail: 'Keys are served as <hex sha256 of kid>.pem in RS256 mode only.' });
    // Prosody keeps a fetched key for good; an hour here lets caches absorb load.
    return { status: 200, text: pem, contentType: 'application/x-pem-file', cacheControl: 'public, max-age=3600' };
  },
});
