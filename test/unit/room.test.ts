import { describe, expect, it } from 'vitest';
import { toProblem } from '../../lib/http/problem-errors.ts';
import { appointmentTokenTimes, appointmentWindow, buildJoinUrl, deriveAppointmentRoom, deriveRoomKey, isSafeRoomName } from '../../lib/room.ts';

const roomKey = deriveRoomKey('room-test-secret-room-test-secret-0123');
const rules = { earlyJoinMinutes: 15, graceMinutes: 15, tokenTtlMaxSeconds: 86_400 };

describe('appointment rooms', () => {
  it('derives the same unguessable room for the same appointment, holding no appointment id', () => {
    const room = deriveAppointmentRoom(roomKey, 'appt', 'appt-456');
    expect(room).toMatch(/^appt-[a-z2-7]{26}$/);
    expect(deriveAppointmentRoom(roomKey, 'appt', 'appt-456')).toBe(room);
    expect(deriveAppointmentRoom(roomKey, 'appt', 'appt-457')).not.toBe(room);
    expect(deriveAppointmentRoom(deriveRoomKey('another-secret-another-secret-012345'), 'appt', 'appt-456')).not.toBe(room);
    expect(room).not.toContain('456');
    expect(isSafeRoomName(room)).toBe(true);
  });

  it('opens the window 15 minutes early and closes it after duration + grace', () => {
    const start = Date.UTC(2030, 0, 1, 10);
    expect(appointmentWindow(start, 60, rules)).toEqual({ opensAt: start / 1000 - 900, closesAt: start / 1000 + 75 * 60 });
  });

  it('gives tokens for a future appointment that start at the window, and for an open one that start now', () => {
    const start = Date.UTC(2030, 0, 1, 10);
    const dayBefore = start / 1000 - 86_400;
    expect(appointmentTokenTimes(dayBefore, start, 60, rules)).toEqual({
      issuedAt: dayBefore,
      notBefore: start / 1000 - 900 - 30,
      expiresAt: start / 1000 + 4500,
    });
    const during = start / 1000 + 600;
    expect(appointmentTokenTimes(during, start, 60, rules)).toEqual({ issuedAt: during, notBefore: during - 30, expiresAt: start / 1000 + 4500 });
  });

  it('refuses a window that has ended, one too far ahead and one longer than the longest token', () => {
    const start = Date.UTC(2030, 0, 1, 10);
    const field = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return toProblem(error)?.options.field;
      }
      return 'accepted';
    };
    expect(field(() => appointmentTokenTimes(start / 1000 + 75 * 60, start, 60, rules))).toBe('scheduledStartTime');
    expect(field(() => appointmentTokenTimes(start / 1000 - 367 * 86_400, start, 60, rules))).toBe('scheduledStartTime');
    expect(field(() => appointmentTokenTimes(start / 1000, start, 60, { ...rules, tokenTtlMaxSeconds: 3600 }))).toBe('durationMinutes');
  });

  it('builds join URLs with and without a tenant', () => {
    expect(buildJoinUrl('meet.example.com', 'room-1')).toBe('https://meet.example.com/room-1');
    expect(buildJoinUrl('meet.example.com', 'room-1', 'acme')).toBe('https://meet.example.com/acme/room-1');
  });
});
