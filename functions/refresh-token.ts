// A new token for the same room, role and identity, for a token this service issued that is
// still valid or expired less than the refresh grace ago (Jitsi refuses an expired token when a
// long meeting reconnects). The new one lives the default token lifetime.
import { deployedHandler, type Deps } from '#lib/deps';
import { createApiHandler } from '#lib/http/api-handler';
import { issueTokens, tokenBody } from '#lib/issue';
import { authorizeRefresh } from '#lib/policy';
import { ROUTES } from '#lib/routes';
import { tokenTimesFrom } from '#lib/token';

export function createRefreshTokenHandler({ settings, logger, keyring, clock }: Deps) {
  return createApiHandler(ROUTES.refreshToken, { settings, logger }, async ({ input, caller }) => {
    // The tenant is whatever sub the old token carried, as long as it is ours to sign.
    const verdict = await keyring.verify(input.token, undefined, { expiredGraceSeconds: settings.refreshGraceSeconds, anySafeTenant: true });
    const grant = authorizeRefresh(caller, verdict, settings.sub);
    const times = tokenTimesFrom(clock.nowSeconds(), settings.tokenTtlSeconds);
    const [issued] = await issueTokens(keyring, settings, [{ ...grant, times }]);
    return { body: tokenBody(issued!), tokens: [issued!] };
  });
}

export const handler = deployedHandler(createRefreshTokenHandler);
