// Prosody's event sync component: occupant left (see lib/jitsi-events.ts).
import type { Deps } from '#lib/deps';
import { createApiHandler } from '#lib/http/api-handler';
import { receiveJitsiEvent } from '#lib/jitsi-events';
import { ROUTES } from '#lib/routes';

export function createJitsiEventOccupantLeftHandler(deps: Deps) {
  return createApiHandler(ROUTES.occupantLeftEvent, deps, async ({ input, requestId }) => ({
    body: { received: true, ...(await receiveJitsiEvent(deps, 'occupant-left', input, requestId)) },
  }));
}
