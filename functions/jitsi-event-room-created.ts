// Prosody's event sync component: room created (see lib/jitsi-events.ts).
import type { Deps } from '#lib/deps';
import { createApiHandler } from '#lib/http/api-handler';
import { receiveJitsiEvent } from '#lib/jitsi-events';
import { ROUTES } from '#lib/routes';

export function createJitsiEventRoomCreatedHandler(deps: Deps) {
  return createApiHandler(ROUTES.roomCreatedEvent, deps, async ({ input, requestId }) => ({
    body: { received: true, ...(await receiveJitsiEvent(deps, 'room-created', input, requestId)) },
  }));
}
