// Prosody's event sync component: room destroyed (see lib/jitsi-events.ts).
import type { Deps } from '#lib/deps';
import { createApiHandler } from '#lib/http/api-handler';
import { receiveJitsiEvent } from '#lib/jitsi-events';
import { ROUTES } from '#lib/routes';

export function createJitsiEventRoomDestroyedHandler(deps: Deps) {
  return createApiHandler(ROUTES.roomDestroyedEvent, deps, async ({ input, requestId }) => ({
    body: { received: true, ...(await receiveJitsiEvent(deps, 'room-destroyed', input, requestId)) },
  }));
}
