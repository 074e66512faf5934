// The therapist (or the platform's backend, as the therapist) asks for a single-use join link for
// the appointment's client: a code to put in the link instead of a token.
import type { Deps } from '#lib/deps';
import { createApiHandler } from '#lib/http/api-handler';
import { resourceRequester } from '#lib/policy';
import { createJoinLink } from '#lib/reservations';
import { ROUTES } from '#lib/routes';
import { isoFromSeconds } from '#lib/token';

export function createCreateJoinLinkHandler(deps: Deps) {
  const { settings } = deps;
  return createApiHandler(ROUTES.createJoinLink, deps, async ({ input, caller, requestId }) => {
    const { code, expiresAt } = await createJoinLink(deps, input.appointmentId, { actor: resourceRequester(caller, input.userId), requestId });
    const body: Record<string, unknown> = { code, expiresAt: isoFromSeconds(expiresAt) };
    // The code travels in the fragment: browsers never send it to a server or in a Referer.
    if (settings.joinLinkBaseUrl !== undefined) body.joinLink = `${settings.joinLinkBaseUrl}#code=${code}`;
    return { body, status: 201 };
  });
}
