// The platform events: their documented schemas are the ones the code holds, and every event the
// code builds from a history event matches its type's schema (ids and times only).
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { eventsOfHistory, PLATFORM_EVENT_SCHEMAS, type PlatformEventType } from '../../lib/platform-events.ts';
import type { AppointmentEvent } from '../../lib/store.ts';
import { platformEventsText } from '../../scripts/docs.ts';

const state = {
  appointmentId: 'appt-1',
  tenant: undefined,
  therapistId: 'th-1',
  clientId: 'cl-1',
  startsAt: 1_900_000_000,
  durationMinutes: 50,
  opensAt: 1_899_999_100,
  closesAt: 1_900_003_900,
  status: 'scheduled' as const,
  version: 1,
  room: 'appt-abc',
  createdAt: 1_899_990_000,
  updatedAt: 1_899_990_000,
};
const at = 1_899_995_000;
const record = (action: string, extra: Record<string, unknown> = {}) =>
  ({ appointmentId: 'appt-1', at, action, actor: 'th-1', requestId: 'r', ...extra }) as never;

describe('platform events', () => {
  it('are documented as the code defines them (run npm run docs after changing one)', () => {
    expect(readFileSync('docs/platform-events.json', 'utf8')).toBe(platformEventsText());
  });

  it("match their type's schema, ids and times only, with the same id each time the same fact is told", () => {
    const ajv = new Ajv2020({ strict: false });
    ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    const history: AppointmentEvent = {
      seq: 3,
      state,
      records: [
        record('created'),
        record('moved', { note: 'starts …' }),
        record('cancelled'),
        record('token-issued', { role: 'client', tokenHash: 'h'.repeat(43) }),
        record('token-refreshed', { role: 'therapist', tokenHash: 'g'.repeat(43) }),
        record('participant-joined', { role: 'client', actor: 'cl-1' }),
        record('participant-left', { note: 'unexpected', actor: 'someone' }),
        record('room-opened', { note: 'duration 60 s' }),
      ],
    };
    const events = eventsOfHistory(history);
    expect(events.map((event) => event.type)).toEqual([
      'appointment.created',
      'appointment.moved',
      'appointment.cancelled',
      'token.issued',
      'token.issued',
      'participant.joined',
      'participant.left',
    ]);
    for (const event of events) {
      const valid = ajv.validate(PLATFORM_EVENT_SCHEMAS[event.type as PlatformEventType], event.data);
      expect(valid, `${event.type}: ${JSON.stringify(ajv.errors)}`).toBe(true);
      expect(event.id).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(event.id).not.toContain('appt-1');
    }
    expect(eventsOfHistory(history).map((event) => event.id)).toEqual(events.map((event) => event.id));
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
  });
});
