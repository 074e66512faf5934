// POST /api/jitsi/validate-token: would Jitsi let the holder of this token in (and, when a
// roomName is given, into that room)? The token doctor: a reason code for each way it refuses.
import { createApiHandler, ok } from '#lib/http';
import { identifyCaller } from '#lib/policy';
import { validateTokenRequest } from '#lib/requests';
import { logger, settings, verifyIssuedToken } from '#lib/service';
import { isoFromSeconds } from '#lib/token';

export const handler = createApiHandler({
  route: 'validate-token',
  schema: validateTokenRequest(),
  settings,
  logger,
  async handle({ input, event }) {
    // Token introspection is for authenticated callers only (RFC 7662 §2.1).
    identifyCaller(event, settings);
    const verdict = await verifyIssuedToken(input.token, input.tenant, { room: input.roomName });
    if (!verdict.valid) return ok({ valid: false, reason: verdict.reason });
    const { token } = verdict;
    return ok({ valid: true, expiresAt: isoFromSeconds(token.expiresAt), room: token.room, moderator: token.moderator, userId: token.user?.id ?? null });
  },
});
