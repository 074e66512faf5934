// What the Prosody function does when the stack's rules invoke it rather than API Gateway: end a
// cancelled appointment's meeting (the bus's `appointment.cancelled` event; EventBridge retries
// a failed invocation), and tell the outcomes of sessions whose window has closed (every five
// minutes). Anything else is not a job.
import type { Deps } from './deps.ts';
import { endMeeting } from './end-meeting.ts';
import { settleDueOutcomes } from './jitsi-events.ts';
import { EVENT_SOURCE } from './platform-events.ts';

/** The constant input of the stack's outcome schedule. */
export const SETTLE_OUTCOMES = { 'jitsi-token-api': 'settle-outcomes' } as const;

interface BusEvent {
  source?: unknown;
  'detail-type'?: unknown;
  id?: unknown;
  detail?: { data?: { appointmentId?: unknown } };
}

export function runProsodyJob(deps: Deps, event: unknown): Promise<unknown> | undefined {
  if (typeof event !== 'object' || event === null || 'routeKey' in event) return undefined;
  if ((event as Record<string, unknown>)['jitsi-token-api'] === SETTLE_OUTCOMES['jitsi-token-api']) {
    return settleDueOutcomes(deps).then((settled) => ({ settled }));
  }
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
