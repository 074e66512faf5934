// What the platform is told: each decision and attendance event as a small typed event with ids
// and times only (never a name, an email or a token). In AWS they go to the stack's EventBridge
// bus (and from there, with -c webhookUrl, to the platform as signed webhooks); locally
// `npm start` delivers them to WEBHOOK_URL itself. Every event has an id that stays the same
// when it is sent again (a retried request re-publishes what it decided), so receivers dedupe
// on it (Standard Webhooks' `webhook-id`).
import { createHash } from 'node:crypto';
import type { Logger } from './log.ts';
import type { AwsClientConfig } from './secret.ts';
import type { AppointmentEvent, AuditRecord } from './store.ts';
import { isoFromSeconds } from './token.ts';
import type { PlatformEvent } from './webhooks.ts';

export type { PlatformEvent } from './webhooks.ts';

export const PLATFORM_EVENT_TYPES = [
  'appointment.created',
  'appointment.moved',
  'appointment.cancelled',
  'token.issued',
  'participant.joined',
  'participant.left',
  'session.completed',
  'session.no-show',
] as const;
export type PlatformEventType = (typeof PLATFORM_EVENT_TYPES)[number];

/** EventBridge's `source` for everything this service publishes. */
export const EVENT_SOURCE = 'jitsi-token-api';

export interface Publisher {
  /** Sends the events; never throws: answers whether they were all accepted (a failure is also logged). */
  publish(events: readonly PlatformEvent[]): Promise<boolean>;
  /** Loads the client (no request), so the first publish does no start-up work. */
  warmUp?(): Promise<void>;
}

export const NO_PUBLISHER: Publisher = { publish: async () => true };

const isoDateTime = { type: 'string', format: 'date-time' } as const;
const id = { type: 'string', minLength: 1, maxLength: 128 } as const;
const role = { enum: ['therapist', 'client'] } as const;
const schedule = {
  appointmentId: id,
  version: { type: 'integer', minimum: 1 },
  scheduledStartTime: isoDateTime,
  durationMinutes: { type: 'integer' },
  windowOpensAt: isoDateTime,
  windowClosesAt: isoDateTime,
} as const;
const objectOf = (properties: Record<string, unknown>, required = Object.keys(properties)) => ({
  type: 'object',
  additionalProperties: false,
  required,
  properties,
});
const presence = objectOf(
  {
    joined: { type: 'boolean' },
    firstJoinAt: { ...isoDateTime, description: 'absent when never joined' },
    lastLeaveAt: isoDateTime,
    minutesPresent: { type: 'number', minimum: 0 },
  },
  ['joined', 'minutesPresent'],
);

/** The `data` of each event type (JSON Schema): ids, times and states only. */
export const PLATFORM_EVENT_SCHEMAS: Readonly<Record<PlatformEventType, Record<string, unknown>>> = {
  'appointment.created': objectOf({ ...schedule, therapistId: id, clientId: id }),
  'appointment.moved': objectOf({ ...schedule }),
  'appointment.cancelled': objectOf({ appointmentId: id, version: schedule.version }),
  'token.issued': objectOf({
    appointmentId: id,
    userId: id,
    role,
    refreshed: { type: 'boolean' },
    tokenHash: { type: 'string', description: 'SHA-256 of the token, base64url' },
  }),
  'participant.joined': objectOf(
    {
      appointmentId: id,
      userId: { ...id, description: 'absent for a participant whose token had no id' },
      role: { enum: ['therapist', 'client', 'unexpected'] },
      at: isoDateTime,
    },
    ['appointmentId', 'role', 'at'],
  ),
  'participant.left': objectOf({ appointmentId: id, userId: id, role: { enum: ['therapist', 'client', 'unexpected'] }, at: isoDateTime }, [
    'appointmentId',
    'role',
    'at',
  ]),
  'session.completed': objectOf({ appointmentId: id, therapist: presence, client: presence, bothPresentMinutes: { type: 'number', minimum: 0 } }),
  'session.no-show': objectOf({
    appointmentId: id,
    status: { enum: ['client-no-show', 'therapist-no-show'] },
    therapist: presence,
    client: presence,
    bothPresentMinutes: { type: 'number', minimum: 0 },
  }),
};

const scheduleOf = (state: AppointmentEvent['state']) => ({
  appointmentId: state.appointmentId,
  version: state.version,
  scheduledStartTime: isoFromSeconds(state.startsAt),
  durationMinutes: state.durationMinutes,
  windowOpensAt: isoFromSeconds(state.opensAt),
  windowClosesAt: isoFromSeconds(state.closesAt),
});

/** An event's id: opaque (it is logged and sent as the webhook-id), and the same each time the same fact is told. */
export const platformEventId = (...parts: readonly (string | number)[]): string =>
  createHash('sha256').update(JSON.stringify(parts), 'utf8').digest('base64url').slice(0, 32);

/** What one history event tells the platform: its changes and the tokens it issued (room and join-link records stay internal). */
export function eventsOfHistory(event: AppointmentEvent): PlatformEvent[] {
  const { state } = event;
  const eventId = (index: number) => platformEventId(state.appointmentId, event.seq, index);
  return event.records.flatMap((record: AuditRecord, index): PlatformEvent[] => {
    const base = { id: eventId(index), time: isoFromSeconds(record.at) };
    switch (record.action) {
      case 'created':
        return [{ ...base, type: 'appointment.created', data: { ...scheduleOf(state), therapistId: state.therapistId, clientId: state.clientId } }];
      case 'moved':
        return [{ ...base, type: 'appointment.moved', data: scheduleOf(state) }];
      case 'cancelled':
        return [{ ...base, type: 'appointment.cancelled', data: { appointmentId: state.appointmentId, version: state.version } }];
      case 'token-issued':
      case 'token-refreshed': {
        if (record.role === undefined || record.tokenHash === undefined) return [];
        const userId = record.role === 'therapist' ? state.therapistId : state.clientId;
        return [
          {
            ...base,
            type: 'token.issued',
            data: {
              appointmentId: state.appointmentId,
              userId,
              role: record.role,
              refreshed: record.action === 'token-refreshed',
              tokenHash: record.tokenHash,
            },
          },
        ];
      }
      case 'participant-joined':
      case 'participant-left': {
        const data: Record<string, unknown> = { appointmentId: state.appointmentId, role: record.role ?? 'unexpected', at: isoFromSeconds(record.at) };
        if (record.actor !== 'unknown') data.userId = record.actor;
        return [{ ...base, type: record.action === 'participant-joined' ? 'participant.joined' : 'participant.left', data }];
      }
      default:
        return [];
    }
  });
}

export interface EventBridgePublisherOptions {
  busName: string;
  logger: Logger;
  client?: AwsClientConfig;
}

const PUT_EVENTS_BATCH = 10;

/**
 * PutEvents to the bus, the SDK loaded on first use. Each event's detail is `{ id, type, time,
 * data }` (what the Prosody function delivers as a webhook, signing the exact bytes it sends).
 * Short timeouts: it is awaited on the request path.
 */
export function createEventBridgePublisher(options: EventBridgePublisherOptions): Publisher {
  let loaded: Promise<{ sdk: typeof import('@aws-sdk/client-eventbridge'); client: import('@aws-sdk/client-eventbridge').EventBridgeClient }> | undefined;
  const eventBridge = () => {
    loaded ??= import('@aws-sdk/client-eventbridge').then((sdk) => ({
      sdk,
      client: new sdk.EventBridgeClient({
        maxAttempts: 2,
        requestHandler: { connectionTimeout: 300, requestTimeout: 400, throwOnRequestTimeout: true },
        ...options.client,
      }),
    }));
    return loaded;
  };
  return {
    async warmUp() {
      await eventBridge();
    },
    async publish(events) {
      if (events.length === 0) return true;
      try {
        const { sdk, client } = await eventBridge();
        for (let start = 0; start < events.length; start += PUT_EVENTS_BATCH) {
          const batch = events.slice(start, start + PUT_EVENTS_BATCH);
          const output = await client.send(
            new sdk.PutEventsCommand({
              Entries: batch.map((event) => ({
                EventBusName: options.busName,
                Source: EVENT_SOURCE,
                DetailType: event.type,
                Time: new Date(event.time),
                Detail: JSON.stringify({ id: event.id, type: event.type, time: event.time, data: event.data }),
              })),
            }),
          );
          if ((output.FailedEntryCount ?? 0) > 0) {
            options.logger.error('platform events not published', { event: 'events-publish-failed', failed: output.FailedEntryCount, of: batch.length });
            return false;
          }
        }
        return true;
      } catch (error) {
        options.logger.error('platform events not published', { event: 'events-publish-failed', errorName: error instanceof Error ? error.name : 'unknown' });
        return false;
      }
    },
  };
}
