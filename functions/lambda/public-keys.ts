// RS256 mode's public keys, for Prosody's asap_key_server. No route of this function touches
// the appointments: it is built without the store, so its bundle has no DynamoDB client.
import { deployedHandler } from '#lib/deps';
import { createFunctionHandler } from '#lib/http/function-handler';
import { FUNCTIONS, ROUTES } from '#lib/routes';
import { createJitsiKeysHandler } from '../jitsi-keys.ts';

export const createPublicKeysHandler = createFunctionHandler(FUNCTIONS.publicKeys, {
  [ROUTES.jitsiKeys.name]: createJitsiKeysHandler,
});

export const handler = deployedHandler(createPublicKeysHandler);
