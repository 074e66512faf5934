// Would Jitsi let the holder of this token in (and, when a room is named, into that room)? The
// token doctor: a reason code for each way it refuses; the token of a cancelled appointment, or
// one issued for an earlier time of a moved appointment, is not valid. Only for authenticated
// callers (RFC 7662 §2.1), and who holds it is told only to the holder and the appointment's
// therapist.
import { tokenStanding } from '#lib/appointments';
import type { Deps } from '#lib/deps';
import { createApiHandler } from '#lib/http/api-handler';
import { ROUTES } from '#lib/routes';
import { isoFromSeconds } from '#lib/token';

export function createValidateTokenHandler(deps: Deps) {
  const { keyring } = deps;
  return createApiHandler(ROUTES.validateToken, deps, async ({ input, caller }) => {
    const verdict = await keyring.verify(input.token, input.tenant, { room: input.roomName });
    if (!verdict.valid) return { body: { valid: false, reason: verdict.reason } };
    const { token, signedWith } = verdict;
    const standing = await tokenStanding(deps, token, caller?.id);
    if (standing.cancelled) return { body: { valid: false, reason: 'appointment_cancelled' } };
    if (standing.moved) return { body: { valid: false, reason: 'appointment_moved' } };
    const expiresAt = isoFromSeconds(token.expiresAt);
    if (!standing.mayShowIdentity) return { body: { valid: true, expiresAt, signedWith } };
    return { body: { valid: true, expiresAt, signedWith, room: token.room, moderator: token.moderator, userId: token.user?.id ?? null } };
  });
}
