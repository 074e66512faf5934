// `npm start`'s side of what the stack does with EventBridge: the platform events go to
// WEBHOOK_URL as Standard Webhooks (signed with WEBHOOK_SECRET, or a generated secret kept in an
// untracked file), and a cancelled appointment's meeting is ended (what the stack's rule does by
// invoking the Prosody function). Both run after the answer, never holding up the request.
import type { Logger } from '#lib/log';
import type { PlatformEvent, Publisher } from '#lib/platform-events';
import type { WebhookDeliverer } from '#lib/webhooks';

export interface LocalPublisher extends Publisher {
  /** Resolves when everything started so far has finished (tests; shutdown). */
  settled(): Promise<void>;
}

export function createLocalPublisher(options: {
  logger: Logger;
  webhook?: WebhookDeliverer | undefined;
  /** Runs after an appointment.cancelled event, in the background. */
  onCancelled?: (appointmentId: string) => Promise<unknown>;
}): LocalPublisher {
  const running = new Set<Promise<unknown>>();
  const inBackground = (work: Promise<unknown>) => {
    const tracked = work.catch((error: unknown) =>
      options.logger.error('background work failed', { errorName: error instanceof Error ? error.name : 'unknown' }),
    );
    running.add(tracked);
    void tracked.finally(() => running.delete(tracked));
  };
  return {
    // Accepted once queued: delivery (and its retries) runs after the answer, as EventBridge's does.
    async publish(events: readonly PlatformEvent[]) {
      if (events.length === 0) return true;
      if (options.webhook !== undefined) inBackground(options.webhook.deliver(events));
      for (const event of events) {
        if (event.type === 'appointment.cancelled' && options.onCancelled !== undefined) inBackground(options.onCancelled(String(event.data.appointmentId)));
      }
      return true;
    },
    async settled() {
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}
