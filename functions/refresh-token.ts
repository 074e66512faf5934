// POST /api/jitsi/refresh-token: a new token for the same room, role and identity, for a token
// this service issued that is still valid or expired less than REFRESH_GRACE_SECONDS ago
// (Jitsi refuses an expired token when a long meeting reconnects). The new one lives
// TOKEN_TTL_SECONDS.
import { createApiHandler, ok, oneToken } from '#lib/http';
import { authorizeRefresh, identifyCaller } from '#lib/policy';
import { refreshTokenRequest } from '#lib/requests';
import { buildJoinUrl } from '#lib/room';
import { appSecret, logger, nowSeconds, settings, verifyIssuedToken } from '#lib/service';
import { buildJitsiClaims, isoFromSeconds, signJitsiToken, tokenTimesFrom } from '#lib/token';

export const handler = createApiHandler({
  route: 'refresh-token',
  schema: refreshTokenRequest(),
  settings,
  logger,
  async handle({ input, event }) {
    const caller = identifyCaller(event, settings);
    // The tenant is whatever sub the old token carried, as long as it is ours to sign.
    const verdict = await verifyIssuedToken(input.token, undefined, { expiredGraceSeconds: settings.refreshGraceSeconds, anySafeTenant: true });
    const grant = authorizeRefresh(caller, verdict, settings.sub);
    const times = tokenTimesFrom(nowSeconds(), settings.tokenTtlSeconds);
    const { signingKey, kid } = await appSecret.get();
    const token = signJitsiToken(buildJitsiClaims({ ...grant, ...times }, settings), signingKey, kid);
    return ok(
      { token, roomName: grant.room, joinUrl: buildJoinUrl(settings.jitsiDomain, grant.room, grant.tenant), expiresAt: isoFromSeconds(times.expiresAt), moderator: grant.moderator },
      oneToken(grant.moderator),
    );
  },
});
