// POST /api/jitsi/validate-token: would Jitsi let the holder of this token in?
import { createApiHandler, ok } from '#lib/http';
import { identifyCaller } from '#lib/policy';
import { validateTokenRequest } from '#lib/requests';
import { appSecret, logger, nowSeconds, settings, tokenExpectations } from '#lib/service';
import { isoFromSeconds, verifyJitsiToken } from '#lib/token';

export const handler = createApiHandler({
  route: 'validate-token',
  schema: validateTokenRequest(),
  settings,
  logger,
  async handle({ input, event }) {
    // Token introspection is for authenticated callers only (RFC 7662 §2.1).
    identifyCaller(event, settings);
    const { signingKey } = await appSecret.get();
    const verdict = verifyJitsiToken(input.token, [signingKey], tokenExpectations, nowSeconds());
    if (!verdict.valid) return ok({ valid: false, reason: verdict.reason });
    const { token } = verdict;
    return ok({ valid: true, expiresAt: isoFromSeconds(token.expiresAt), room: token.room, moderator: token.moderator, userId: token.userId ?? null });
  },
});
