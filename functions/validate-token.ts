// Would Jitsi let the holder of this token in (and, when a room is named, into that room)? The
// token doctor: a reason code for each way it refuses. Only for authenticated callers (RFC 7662 §2.1).
import { deployedHandler, type Deps } from '#lib/deps';
import { createApiHandler } from '#lib/http/api-handler';
import { ROUTES } from '#lib/routes';
import { isoFromSeconds } from '#lib/token';

export function createValidateTokenHandler({ settings, logger, keyring }: Deps) {
  return createApiHandler(ROUTES.validateToken, { settings, logger }, async ({ input }) => {
    const verdict = await keyring.verify(input.token, input.tenant, { room: input.roomName });
    if (!verdict.valid) return { body: { valid: false, reason: verdict.reason } };
    const { token } = verdict;
    return { body: { valid: true, expiresAt: isoFromSeconds(token.expiresAt), room: token.room, moderator: token.moderator, userId: token.user?.id ?? null } };
  });
}

export const handler = deployedHandler(createValidateTokenHandler);
