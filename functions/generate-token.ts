// A token for one person in one room, for a bounded time.
import { deployedHandler, type Deps } from '#lib/deps';
import { createApiHandler } from '#lib/http/api-handler';
import { issueTokens, tokenBody } from '#lib/issue';
import { authorizeGenerateToken } from '#lib/policy';
import { ROUTES } from '#lib/routes';
import { tokenTimesFrom } from '#lib/token';

export function createGenerateTokenHandler({ settings, logger, keyring, clock }: Deps) {
  return createApiHandler(ROUTES.generateToken, { settings, logger }, async ({ input, caller }) => {
    const grant = authorizeGenerateToken(caller, input);
    const times = tokenTimesFrom(clock.nowSeconds(), input.expiresIn ?? settings.tokenTtlSeconds);
    const [issued] = await issueTokens(keyring, settings, [{ room: input.roomName, tenant: input.tenant, ...grant, times }]);
    return { body: tokenBody(issued!), tokens: [issued!] };
  });
}

export const handler = deployedHandler(createGenerateTokenHandler);
