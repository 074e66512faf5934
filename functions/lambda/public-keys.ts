// RS256 mode's public keys, for Prosody's asap_key_server: read from what the signing function
// published in the table (one GetItem), so this unauthenticated function never holds the private key.
import { deployedHandler } from '#lib/deps';
import { createFunctionHandler } from '#lib/http/function-handler';
import { FUNCTIONS, ROUTES } from '#lib/routes';
import { createDynamoStore } from '#lib/store';
import { createJitsiKeysHandler } from '../jitsi-keys.ts';

export const createPublicKeysHandler = createFunctionHandler(FUNCTIONS.publicKeys, {
  [ROUTES.jitsiKeys.name]: createJitsiKeysHandler,
});

// Top-level await: the first request's work is done in the init phase (lib/deps.ts, prepareForFirstRequest).
export const handler = await deployedHandler(createPublicKeysHandler, { fn: FUNCTIONS.publicKeys, openStore: createDynamoStore });
