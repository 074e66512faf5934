// RS256 ("ASAP") mode's public keys, where Prosody's asap_key_server fetches them:
// `<hex(sha256(kid))>.pem`, each while a token signed with it may be valid. Public and
// cacheable; 404 in HS256 mode and for any other name. Served from what the signing functions
// published (lib/store/public-keys.ts): this function never reads a private key.
import type { Deps } from '#lib/deps';
import { NotFoundError } from '#lib/errors';
import { createApiHandler } from '#lib/http/api-handler';
import { servedPem, type PublishedKey } from '#lib/public-keys';
import { ROUTES } from '#lib/routes';
import { KEY_FILE_PATTERN } from '#lib/token';

/** A key found is kept this long in the environment: Prosody fetches each once, but a public route can be asked again and again. */
const FOUND_KEY_CACHE_SECONDS = 60;
const FOUND_KEYS_KEPT = 16;

export function createJitsiKeysHandler({ settings, logger, store, clock }: Deps) {
  const found = new Map<string, { key: PublishedKey; readAt: number }>();
  async function publishedKey(fileName: string): Promise<PublishedKey | undefined> {
    const now = clock.nowSeconds();
    const cached = found.get(fileName);
    // A key kept here that has since stopped being served is read again: a signer may have extended it.
    if (cached !== undefined && now - cached.readAt < FOUND_KEY_CACHE_SECONDS && now < cached.key.servedUntil) return cached.key;
    const key = await store.publicKeys.read(fileName);
    if (key !== undefined) {
      if (found.size >= FOUND_KEYS_KEPT) found.clear();
      found.set(fileName, { key, readAt: now });
    }
    return key;
  }
  return createApiHandler(ROUTES.jitsiKeys, { settings, logger }, async ({ event }) => {
    const keyFile = event.pathParameters?.keyFile ?? '';
    const pem = settings.signing === 'rs256' && KEY_FILE_PATTERN.test(keyFile) ? servedPem(await publishedKey(keyFile), clock.nowSeconds()) : undefined;
    if (pem === undefined) throw new NotFoundError('Keys are served as <hex sha256 of kid>.pem in RS256 mode only.');
    // Prosody keeps a fetched key for good; an hour here lets caches absorb load.
    return { text: pem, contentType: 'application/x-pem-file', cacheControl: 'public, max-age=3600' };
  });
}
