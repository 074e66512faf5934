// A new token for the same room and role, for a token this service issued with its current
// secret that is still valid or expired less than the refresh grace ago (Jitsi refuses an
// expired token when a long meeting reconnects). The new one keeps the old one's lifetime and
// never outlives the appointment (or an ad-hoc session's maximum length).
import { refreshToken } from '#lib/appointments';
import type { Deps } from '#lib/deps';
import { createApiHandler } from '#lib/http/api-handler';
import { tokenBody } from '#lib/issue';
import { authorizeRefresh, refreshedUser } from '#lib/policy';
import { ROUTES } from '#lib/routes';

export function createRefreshTokenHandler(deps: Deps) {
  const { settings, keyring } = deps;
  return createApiHandler(ROUTES.refreshToken, deps, async ({ input, caller, requestId }) => {
    // The tenant is whatever sub the old token carried, as long as it is ours to sign.
    const verdict = await keyring.verify(input.token, undefined, {
      expiredGraceSeconds: settings.refreshGraceSeconds,
      anySafeTenant: true,
      currentSecretOnly: true,
    });
    const { token, holder } = authorizeRefresh(caller, verdict);
    const user = refreshedUser(caller, holder);
    const issued = await refreshToken(deps, token, user, { actor: user.id, requestId });
    return { body: tokenBody(issued), tokens: [issued] };
  });
}
