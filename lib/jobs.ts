// What the Prosody function does when the stack's rules invoke it rather than API Gateway: end a
// cancelled appointment's meeting (the bus's `appointment.cancelled` event), deliver each bus
// event to the platform as a signed webhook (-c webhookUrl), and tell the outcomes of sessions
// whose window has closed (every five minutes). A job that fails throws: Lambda invokes it again
// (twice, within an hour: the stack's async-invoke settings). Anything else is not a job.
import type { Deps } from './deps.ts';
import { endMeeting } from './end-meeting.ts';
import { settleDueOutcomes } from './jitsi-events.ts';
import { EVENT_SOURCE } from './platform-events.ts';
import { createWebhookDeliverer, type PlatformEvent, type WebhookDeliverer } from './webhooks.ts';

/** The key of a job's marker in a rule's input. */
export const JOB_MARKER = 'jitsi-token-api';
/** The constant input of the stack's outcome schedule. */
export const SETTLE_OUTCOMES = { [JOB_MARKER]: 'settle-outcomes' } as const;
/** What the webhook rule sends: this marker and the bus event's detail (`{ id, type, time, data }`). */
export const DELIVER_WEBHOOK = 'deliver-webhook';

let deliverer: { url: string; secret: string; deliverer: WebhookDeliverer } | undefined;

/** Delivers one bus event to the platform, signed over the exact bytes sent; throws when it could not. */
async function deliverWebhook(deps: Deps, event: PlatformEvent): Promise<{ delivered: number }> {
  const url = deps.settings.webhookUrl;
  if (url === undefined || deps.webhookSecret === undefined) throw new Error('webhook delivery is not configured on this function');
  const secret = await deps.webhookSecret.get();
  if (deliverer?.url !== url || deliverer.secret !== secret) {
    // Two quick tries inside one invocation; Lambda's retries of the invocation come on top.
    deliverer = { url, secret, deliverer: createWebhookDeliverer({ url, secret, logger: deps.logger, attempts: 2, timeoutMs: 3_000 }) };
  }
  const { delivered } = await deliverer.deliverer.deliver([event]);
  if (delivered !== 1) throw new Error('the webhook was not delivered');
  return { delivered };
}

interface BusEvent {
  source?: unknown;
  'detail-type'?: unknown;
  id?: unknown;
  detail?: { data?: { appointmentId?: unknown } };
}

export function runProsodyJob(deps: Deps, event: unknown): Promise<unknown> | undefined {
  if (typeof event !== 'object' || event === null || 'routeKey' in event) return undefined;
  const marker = (event as Record<string, unknown>)[JOB_MARKER];
  if (marker === SETTLE_OUTCOMES[JOB_MARKER]) return settleDueOutcomes(deps).then((settled) => ({ settled }));
  if (marker === DELIVER_WEBHOOK) return deliverWebhook(deps, (event as { event: PlatformEvent }).event);
  const busEvent = event as BusEvent;
  const appointmentId = busEvent.detail?.data?.appointmentId;
  if (busEvent.source === EVENT_SOURCE && busEvent['detail-type'] === 'appointment.cancelled' && typeof appointmentId === 'string') {
    const requestId = typeof busEvent.id === 'string' ? busEvent.id : `cancel-${appointmentId}`;
    return endMeeting(deps, appointmentId, { actor: 'jitsi-token-api', requestId }, 'cancelled').then((result) => {
      // A failure is recorded on the trail; thrown, EventBridge invokes again (a bounded number of times).
      if (result.outcome === 'failed') throw new Error('the meeting could not be ended');
      return result;
    });
  }
  return undefined;
}
