// Prosody's event sync component: occupant joined (see lib/jitsi-events.ts).
import type { Deps } from '#lib/deps';
import { createApiHandler } from '#lib/http/api-handler';
import { receiveJitsiEvent } from '#lib/jitsi-events';
import { ROUTES } from '#lib/routes';

export function createJitsiEventOccupantJoinedHandler(deps: Deps) {
  return createApiHandler(ROUTES.occupantJoinedEvent, deps, async ({ input, requestId }) => ({
    body: { received: true, ...(await receiveJitsiEvent(deps, 'occupant-joined', input, requestId)) },
  }));
}
