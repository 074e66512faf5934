// A client exchanges a join link's code, once, for its token and the Jitsi URL to open. The code
// is the credential: no caller token is needed.
import type { Deps } from '#lib/deps';
import { createApiHandler } from '#lib/http/api-handler';
import { tokenBody } from '#lib/issue';
import { exchangeJoinLink } from '#lib/reservations';
import { ROUTES } from '#lib/routes';

export function createExchangeJoinLinkHandler(deps: Deps) {
  return createApiHandler(ROUTES.exchangeJoinLink, deps, async ({ input, requestId }) => {
    const issued = await exchangeJoinLink(deps, input.code, input.userName, requestId);
    // Jitsi's web client reads the token from the fragment first (never sent to a server).
    return { body: { ...tokenBody(issued), jitsiUrl: `${issued.joinUrl}#jwt=${issued.token}` }, tokens: [issued] };
  });
}
