// RS256 ("ASAP") mode's public keys, where Prosody's asap_key_server fetches them:
// `<hex(sha256(kid))>.pem`, current and previous. Public and cacheable; 404 in HS256 mode and
// for any other name. Served from what the signing function published (lib/store/public-keys.ts):
// this function never reads the private key.
import type { Deps } from '#lib/deps';
import { NotFoundError } from '#lib/errors';
import { createApiHandler } from '#lib/http/api-handler';
import { servedKeyFile } from '#lib/public-keys';
import { ROUTES } from '#lib/routes';
import { KEY_FILE_PATTERN, maxTokenLifetimeSeconds } from '#lib/token';

export function createJitsiKeysHandler({ settings, logger, store, clock }: Deps) {
  return createApiHandler(ROUTES.jitsiKeys, { settings, logger }, async ({ event }) => {
    const keyFile = event.pathParameters?.keyFile ?? '';
    const pem =
      settings.signing === 'rs256' && KEY_FILE_PATTERN.test(keyFile)
        ? servedKeyFile(await store.publicKeys.read(), keyFile, clock.nowSeconds(), maxTokenLifetimeSeconds(settings))
        : undefined;
    if (pem === undefined) throw new NotFoundError('Keys are served as <hex sha256 of kid>.pem in RS256 mode only.');
    // Prosody keeps a fetched key for good; an hour here lets caches absorb load.
    return { text: pem, contentType: 'application/x-pem-file', cacheControl: 'public, max-age=3600' };
  });
}
