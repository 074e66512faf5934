import { describe, expect, it } from 'vitest';
import { toProblem } from '../../lib/http/problem-errors.ts';
import {
  appointmentTokenTimes,
  appointmentWindow,
  buildJoinUrl,
  isAppointmentRoom,
  isSafeRoomName,
  plannedWindow,
  appointmentRoomName,
} from '../../lib/room.ts';
import { randomBytes } from 'node:crypto';
const rules = { earlyJoinMinutes: 15, graceMinutes: 15, tokenTtlMaxSeconds: 86_400 };
const catching = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
};

describe('appointment rooms', () => {
  it('makes unguessable room names (130 bits) with the prefix, holding no appointment id, reserved for appointments', () => {
    const rooms = new Set(Array.from({ length: 1000 }, () => appointmentRoomName('appt', randomBytes(32))));
    expect(() => appointmentRoomName('appt', randomBytes(16))).toThrow(RangeError);
    expect(rooms.size).toBe(1000);
    for (const room of rooms) {
      expect(room).toMatch(/^appt-[a-z2-7]{26}$/);
      expect(isSafeRoomName(room)).toBe(true);
      expect(isAppointmentRoom(room, 'appt')).toBe(true);
    }
    expect(isAppointmentRoom('appointment-review', 'appt')).toBe(false);
    expect(isAppointmentRoom('appt', 'appt')).toBe(false);
  });

  it('opens the window 15 minutes early and closes it after duration + grace', () => {
    const start = Date.UTC(2030, 0, 1, 10);
    expect(appointmentWindow(start, 60, rules)).toEqual({ opensAt: start / 1000 - 900, closesAt: start / 1000 + 75 * 60 });
  });

  it('gives tokens for a future appointment that start at the window, and for an open one that start now', () => {
    const start = Date.UTC(2030, 0, 1, 10);
    const dayBefore = start / 1000 - 86_400;
    const window = plannedWindow(dayBefore, start, 60, rules);
    expect(appointmentTokenTimes(dayBefore, window)).toEqual({
      issuedAt: dayBefore,
      notBefore: start / 1000 - 900 - 30,
      expiresAt: start / 1000 + 4500,
    });
    const during = start / 1000 + 600;
    expect(appointmentTokenTimes(during, window)).toEqual({ issuedAt: during, notBefore: during - 30, expiresAt: start / 1000 + 4500 });
  });

  it('lets a requested lifetime shorten an appointment token, counted from when it becomes usable, never past the close', () => {
    const start = Date.UTC(2030, 0, 1, 10) / 1000;
    const window = appointmentWindow(start * 1000, 60, rules); // opens start − 900, closes start + 4500
    const during = start + 600;
    expect(appointmentTokenTimes(during, window, 600)).toEqual({ issuedAt: during, notBefore: during - 30, expiresAt: during + 600 });
    // Longer than what is left of the window: the window's close wins.
    expect(appointmentTokenTimes(during, window, 86_400)).toEqual({ issuedAt: during, notBefore: during - 30, expiresAt: start + 4500 });
    expect(appointmentTokenTimes(start + 4499, window, 60).expiresAt).toBe(start + 4500);
    // Asked for before the window opens: nbf stays at the opening, and the lifetime runs from there.
    const dayBefore = start - 86_400;
    expect(appointmentTokenTimes(dayBefore, window, 600)).toEqual({ issuedAt: dayBefore, notBefore: start - 900 - 30, expiresAt: start - 900 + 600 });
    // No lifetime asked for: the whole window, as before.
    expect(appointmentTokenTimes(during, window, undefined).expiresAt).toBe(start + 4500);
    expect(toProblem(catching(() => appointmentTokenTimes(start + 4500, window, 600)))?.type).toBe('appointment-ended');
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
    expect(field(() => plannedWindow(start / 1000 + 75 * 60, start, 60, rules))).toBe('scheduledStartTime');
    expect(toProblem(catching(() => plannedWindow(start / 1000 + 75 * 60, start, 60, rules)))?.type).toBe('appointment-ended');
    expect(field(() => plannedWindow(start / 1000 - 367 * 86_400, start, 60, rules))).toBe('scheduledStartTime');
    expect(field(() => plannedWindow(start / 1000, start, 60, { ...rules, tokenTtlMaxSeconds: 3600 }))).toBe('durationMinutes');
    // A stored window that has closed gets no token.
    expect(toProblem(catching(() => appointmentTokenTimes(start / 1000 + 75 * 60, appointmentWindow(start, 60, rules))))?.type).toBe('appointment-ended');
  });

  it('builds join URLs with and without a tenant', () => {
    expect(buildJoinUrl('meet.example.com', 'room-1')).toBe('https://meet.example.com/room-1');
    expect(buildJoinUrl('meet.example.com', 'room-1', 'acme')).toBe('https://meet.example.com/acme/room-1');
  });
});
