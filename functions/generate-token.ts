// A token for one person in one room, for a bounded time. For an appointment (its id, or its
// room) the token is the caller's own: room, role and window come from the store (expiresIn can
// only shorten it). Any other room is ad-hoc, under the identity rules alone.
import { appointmentForRequest, memberToken } from '#lib/appointments';
import type { Deps } from '#lib/deps';
import { createApiHandler } from '#lib/http/api-handler';
import { issueTokens, tokenBody } from '#lib/issue';
import { authorizeGenerateToken, requestingUser } from '#lib/policy';
import { ROUTES } from '#lib/routes';
import { tokenTimesFrom } from '#lib/token';

export function createGenerateTokenHandler(deps: Deps) {
  const { settings, keyring, clock } = deps;
  return createApiHandler(ROUTES.generateToken, deps, async ({ input, caller, requestId }) => {
    // Who asks, for a refusal's record: the caller, or without caller authentication the body's id.
    const asker = { actor: caller?.id ?? input.userId ?? 'anonymous', requestId };
    const appointment = await appointmentForRequest(deps, input, asker);
    if (appointment !== undefined) {
      const user = requestingUser(caller, input);
      const issued = await memberToken(deps, appointment, user, input.isModerator, { actor: user.id, requestId }, input.expiresIn);
      // The appointment decides the room; a client that named another is told, in a field it can check.
      const replaced = input.roomName !== undefined && input.roomName.toLowerCase() !== issued.roomName;
      return { body: { ...tokenBody(issued), ...(replaced ? { requestedRoomName: input.roomName } : {}) }, tokens: [issued] };
    }
    const grant = authorizeGenerateToken(caller, input);
    const times = tokenTimesFrom(clock.nowSeconds(), input.expiresIn ?? settings.tokenTtlSeconds);
    const [issued] = await issueTokens(keyring, settings, [{ room: input.roomName!, tenant: input.tenant, ...grant, times }]);
    return { body: tokenBody(issued!), tokens: [issued!] };
  });
}
