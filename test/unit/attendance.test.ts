import { fc, it as property } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { ATTENDANCE_RULES, type AttendanceInput, type OccupantSession, summarizeAttendance } from '../../lib/attendance.ts';

const OPENS = 1_800_000_000;
const CLOSES = OPENS + 3600;
const MINUTE = 60;
const RUNS = { numRuns: Number(process.env.FUZZ_RUNS ?? 200) };

/** An appointment's input, with the window open half an hour and nobody in yet. */
function appointment(overrides: Partial<AttendanceInput> = {}): AttendanceInput {
  return {
    therapistId: 'therapist-1',
    clientId: 'client-1',
    opensAt: OPENS,
    closesAt: CLOSES,
    status: 'scheduled',
    roomClosedAt: undefined,
    sessions: [],
    now: OPENS + 30 * MINUTE,
    ...overrides,
  };
}

/** A session `from` to `to` minutes after the window opens (`to` undefined: no leave reported). */
function stay(occupantKey: string, userId: string | undefined, from: number, to: number | undefined): OccupantSession {
  return { occupantKey, userId, joinedAt: OPENS + from * MINUTE, leftAt: to === undefined ? undefined : OPENS + to * MINUTE };
}

const afterWindow = CLOSES + 10 * MINUTE;

describe('summarizeAttendance: status', () => {
  it('completed, with the overlap reported separately', () => {
    const attendance = summarizeAttendance(
      appointment({ now: afterWindow, sessions: [stay('t', 'therapist-1', 0, 50), stay('c', 'client-1', 5, 55)], roomClosedAt: OPENS + 55 * MINUTE }),
    );
    expect(attendance.status).toBe('completed');
    expect(attendance.therapist).toEqual({
      joined: true,
      firstJoinAt: OPENS,
      lastLeaveAt: OPENS + 50 * MINUTE,
      present: false,
      secondsPresent: 50 * MINUTE,
      minutesPresent: 50,
    });
    expect(attendance.client).toMatchObject({ firstJoinAt: OPENS + 5 * MINUTE, lastLeaveAt: OPENS + 55 * MINUTE, secondsPresent: 50 * MINUTE });
    expect(attendance.bothPresentSeconds).toBe(45 * MINUTE);
    expect(attendance.bothPresentMinutes).toBe(45);
    expect(attendance.others).toEqual([]);
  });

  it('client-no-show: the therapist came, the client never did', () => {
    const attendance = summarizeAttendance(appointment({ now: afterWindow, sessions: [stay('t', 'therapist-1', 0, 15)] }));
    expect(attendance.status).toBe('client-no-show');
    expect(attendance.client).toEqual({ joined: false, firstJoinAt: undefined, lastLeaveAt: undefined, present: false, secondsPresent: 0, minutesPresent: 0 });
    expect(attendance.bothPresentSeconds).toBe(0);
  });

  it('therapist-no-show: the client came, the therapist never did', () => {
    const attendance = summarizeAttendance(appointment({ now: afterWindow, sessions: [stay('c', 'client-1', 2, 20)] }));
    expect(attendance.status).toBe('therapist-no-show');
    expect(attendance.client.secondsPresent).toBe(18 * MINUTE);
  });

  it('therapist-no-show when neither came (the therapist is asked first)', () => {
    expect(summarizeAttendance(appointment({ now: afterWindow })).status).toBe('therapist-no-show');
  });

  it('in-progress while a member is in the room, counted up to now', () => {
    const attendance = summarizeAttendance(appointment({ sessions: [stay('t', 'therapist-1', 0, undefined), stay('c', 'client-1', 10, undefined)] }));
    expect(attendance.status).toBe('in-progress');
    expect(attendance.therapist).toMatchObject({ present: true, lastLeaveAt: undefined, secondsPresent: 30 * MINUTE });
    expect(attendance.bothPresentSeconds).toBe(20 * MINUTE);
  });

  it('in-progress when everyone left but the window is still open (the session can resume)', () => {
    const attendance = summarizeAttendance(appointment({ sessions: [stay('t', 'therapist-1', 0, 10)] }));
    expect(attendance.status).toBe('in-progress');
    expect(attendance.therapist.present).toBe(false);
  });

  it('not-started while the window is open and no member joined', () => {
    expect(summarizeAttendance(appointment()).status).toBe('not-started');
    expect(summarizeAttendance(appointment({ now: OPENS - MINUTE })).status).toBe('not-started');
  });

  it('cancelled before anyone joined, during or after the window', () => {
    expect(summarizeAttendance(appointment({ status: 'cancelled' })).status).toBe('cancelled');
    expect(summarizeAttendance(appointment({ status: 'cancelled', now: afterWindow })).status).toBe('cancelled');
  });

  it('a cancelled appointment that a member joined follows the usual rules', () => {
    const sessions = [stay('t', 'therapist-1', 0, 10)];
    expect(summarizeAttendance(appointment({ status: 'cancelled', sessions })).status).toBe('in-progress');
    expect(summarizeAttendance(appointment({ status: 'cancelled', sessions, now: afterWindow })).status).toBe('client-no-show');
  });

  it('others being present neither starts the session nor undoes a cancellation', () => {
    const sessions = [stay('x', 'stranger', 0, undefined)];
    expect(summarizeAttendance(appointment({ sessions })).status).toBe('not-started');
    expect(summarizeAttendance(appointment({ status: 'cancelled', sessions })).status).toBe('cancelled');
  });
});

describe('summarizeAttendance: sessions', () => {
  it('a reconnect is two sessions: the gap does not count', () => {
    const attendance = summarizeAttendance(appointment({ now: afterWindow, sessions: [stay('c-1', 'client-1', 0, 10), stay('c-2', 'client-1', 12, 40)] }));
    expect(attendance.client).toMatchObject({ firstJoinAt: OPENS, lastLeaveAt: OPENS + 40 * MINUTE, secondsPresent: 38 * MINUTE, minutesPresent: 38 });
  });

  it('two tabs open at once count once', () => {
    const attendance = summarizeAttendance(
      appointment({ now: afterWindow, sessions: [stay('tab-1', 'therapist-1', 0, 30), stay('tab-2', 'therapist-1', 20, 45)] }),
    );
    expect(attendance.therapist.secondsPresent).toBe(45 * MINUTE);
  });

  it('rounds minutes to one decimal', () => {
    const sessions = [{ occupantKey: 't', userId: 'therapist-1', joinedAt: OPENS, leftAt: OPENS + 100 }];
    expect(summarizeAttendance(appointment({ sessions })).therapist.minutesPresent).toBe(1.7);
  });

  it('flags an unexpected third id, one entry per id', () => {
    const attendance = summarizeAttendance(
      appointment({ now: afterWindow, sessions: [stay('t', 'therapist-1', 0, 50), stay('x-1', 'stranger', 5, 10), stay('x-2', 'stranger', 20, 25)] }),
    );
    expect(attendance.others).toEqual([
      {
        userId: 'stranger',
        flagged: true,
        joined: true,
        firstJoinAt: OPENS + 5 * MINUTE,
        lastLeaveAt: OPENS + 25 * MINUTE,
        present: false,
        secondsPresent: 10 * MINUTE,
        minutesPresent: 10,
      },
    ]);
    expect(attendance.status).toBe('client-no-show');
  });

  it('groups occupants without an id under null, listed after the named ones', () => {
    const attendance = summarizeAttendance(
      appointment({ sessions: [stay('a', undefined, 0, undefined), stay('b', 'zed', 1, 2), stay('c', undefined, 3, 4), stay('d', 'amy', 1, 2)] }),
    );
    expect(attendance.others.map((other) => other.userId)).toEqual(['amy', 'zed', null]);
    expect(attendance.others[2]).toMatchObject({ present: true, secondsPresent: 30 * MINUTE, lastLeaveAt: undefined });
  });

  it('cuts an open session where Prosody destroyed the room', () => {
    const roomClosedAt = OPENS + 20 * MINUTE;
    const attendance = summarizeAttendance(appointment({ roomClosedAt, sessions: [stay('t', 'therapist-1', 0, undefined)] }));
    expect(attendance.therapist).toMatchObject({ present: false, lastLeaveAt: roomClosedAt, secondsPresent: 20 * MINUTE });
    expect(attendance.status).toBe('in-progress');
  });

  it('ignores a room destruction before the session joined', () => {
    const attendance = summarizeAttendance(appointment({ roomClosedAt: OPENS + 5 * MINUTE, sessions: [stay('t', 'therapist-1', 10, undefined)] }));
    expect(attendance.therapist).toMatchObject({ present: true, secondsPresent: 20 * MINUTE });
  });

  it("cuts an open session at the window's end once it is over", () => {
    const attendance = summarizeAttendance(
      appointment({ now: afterWindow, sessions: [stay('t', 'therapist-1', 0, undefined), stay('c', 'client-1', 30, undefined)] }),
    );
    expect(attendance.therapist).toMatchObject({ present: false, lastLeaveAt: CLOSES, secondsPresent: 60 * MINUTE });
    expect(attendance.bothPresentSeconds).toBe(30 * MINUTE);
    expect(attendance.status).toBe('completed');
  });

  it('takes the earlier of the room destruction and the window end', () => {
    const roomClosedAt = OPENS + 40 * MINUTE;
    const attendance = summarizeAttendance(appointment({ now: afterWindow, roomClosedAt, sessions: [stay('t', 'therapist-1', 0, undefined)] }));
    expect(attendance.therapist.lastLeaveAt).toBe(roomClosedAt);
  });

  it('never lets a session end before it began', () => {
    const attendance = summarizeAttendance(appointment({ sessions: [{ occupantKey: 't', userId: 'therapist-1', joinedAt: OPENS + 600, leftAt: OPENS }] }));
    expect(attendance.therapist).toMatchObject({ secondsPresent: 0, lastLeaveAt: OPENS + 600 });
  });

  it('merges records of one occupant: the earliest join and the latest reported leave', () => {
    const attendance = summarizeAttendance(
      appointment({ sessions: [stay('t', 'therapist-1', 5, undefined), stay('t', 'therapist-1', 0, 10), stay('t', 'therapist-1', 2, 15)] }),
    );
    expect(attendance.therapist).toMatchObject({ firstJoinAt: OPENS, lastLeaveAt: OPENS + 15 * MINUTE, present: false, secondsPresent: 15 * MINUTE });
  });

  it('keeps a record claiming another id under the same occupant apart, so the id is flagged', () => {
    const attendance = summarizeAttendance(appointment({ sessions: [stay('t', 'therapist-1', 0, 10), stay('t', 'stranger', 0, 10)] }));
    expect(attendance.therapist.secondsPresent).toBe(10 * MINUTE);
    expect(attendance.others.map((other) => other.userId)).toEqual(['stranger']);
  });
});

it('states each rule on one line', () => {
  expect(ATTENDANCE_RULES.length).toBeGreaterThan(5);
  for (const rule of ATTENDANCE_RULES) expect(rule).toMatch(/^[A-Za-z][^\n]*[.;]$/);
});

describe('summarizeAttendance: properties', () => {
  const ids = ['therapist-1', 'client-1', 'stranger', undefined] as const;
  const time = fc.integer({ min: OPENS - 600, max: CLOSES + 600 });
  const session = fc
    .record({
      occupantKey: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
      userId: fc.constantFrom(...ids),
      joinedAt: time,
      leftAt: fc.option(time, { nil: undefined }),
    })
    .map(({ leftAt, ...rest }) => ({ ...rest, leftAt: leftAt === undefined ? undefined : Math.max(rest.joinedAt, leftAt) }));
  const input = fc.record({
    therapistId: fc.constant('therapist-1'),
    clientId: fc.constant('client-1'),
    opensAt: fc.constant(OPENS),
    closesAt: fc.constant(CLOSES),
    status: fc.constantFrom('scheduled' as const, 'cancelled' as const),
    roomClosedAt: fc.option(time, { nil: undefined }),
    sessions: fc.array(session, { maxLength: 12 }),
    now: time,
  });

  const inputWithShuffledSessions = input.chain((attendanceInput) =>
    fc.tuple(
      fc.constant(attendanceInput),
      fc.shuffledSubarray(attendanceInput.sessions, { minLength: attendanceInput.sessions.length, maxLength: attendanceInput.sessions.length }),
    ),
  );

  property.prop([inputWithShuffledSessions], RUNS)('does not depend on the order of the sessions', ([attendanceInput, shuffled]) => {
    expect(summarizeAttendance({ ...attendanceInput, sessions: shuffled })).toEqual(summarizeAttendance(attendanceInput));
  });

  property.prop([input], RUNS)('repeating every session changes nothing', (attendanceInput) => {
    const repeated = [...attendanceInput.sessions, ...attendanceInput.sessions];
    expect(summarizeAttendance({ ...attendanceInput, sessions: repeated })).toEqual(summarizeAttendance(attendanceInput));
  });

  property.prop([input], RUNS)('both present is never more than either member alone', (attendanceInput) => {
    const { therapist, client, bothPresentSeconds } = summarizeAttendance(attendanceInput);
    expect(bothPresentSeconds).toBeGreaterThanOrEqual(0);
    expect(bothPresentSeconds).toBeLessThanOrEqual(Math.min(therapist.secondsPresent, client.secondsPresent));
  });

  property.prop([input], RUNS)('time present fits within the widest span the sessions could cover', (attendanceInput) => {
    const attendance = summarizeAttendance(attendanceInput);
    for (const person of [attendance.therapist, attendance.client, ...attendance.others]) {
      if (!person.joined) {
        expect(person.secondsPresent).toBe(0);
        continue;
      }
      const latestEnd = Math.max(
        attendanceInput.now,
        attendanceInput.roomClosedAt ?? attendanceInput.now,
        ...attendanceInput.sessions.map((s) => s.leftAt ?? attendanceInput.now),
      );
      expect(person.secondsPresent).toBeLessThanOrEqual(Math.max(0, latestEnd - person.firstJoinAt!));
      if (!person.present) expect(person.secondsPresent).toBeLessThanOrEqual(person.lastLeaveAt! - person.firstJoinAt!);
    }
  });
});
