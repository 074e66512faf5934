// POST /api/jitsi/generate-token: a token for one person in one room, for a bounded time.
import { createApiHandler, ok, oneToken } from '#lib/http';
import { authorizeGenerateToken, identifyCaller } from '#lib/policy';
import { generateTokenRequest } from '#lib/requests';
import { buildJoinUrl } from '#lib/room';
import { appSecret, logger, nowSeconds, settings, tenantFor } from '#lib/service';
import { buildJitsiClaims, isoFromSeconds, signJitsiToken, tokenTimesFrom } from '#lib/token';

export const handler = createApiHandler({
  route: 'generate-token',
  schema: generateTokenRequest(settings),
  settings,
  logger,
  async handle({ input, event }) {
    const grant = authorizeGenerateToken(identifyCaller(event, settings), input);
    const times = tokenTimesFrom(nowSeconds(), input.expiresIn ?? settings.tokenTtlSeconds);
    const { signingKey, kid } = await appSecret.get();
    const tenant = tenantFor(input.tenant);
    const token = signJitsiToken(buildJitsiClaims({ room: input.roomName, tenant, ...grant, ...times }, settings), signingKey, kid);
    return ok({
      token,
      roomName: input.roomName,
      joinUrl: buildJoinUrl(settings.jitsiDomain, input.roomName, tenant),
      expiresAt: isoFromSeconds(times.expiresAt),
      moderator: grant.moderator,
    }, oneToken(grant.moderator));
  },
});
