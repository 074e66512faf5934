// An appointment's attendance, derived from the occupant sessions Prosody's event sync plugin
// reports (occupant joined/left, room destroyed). Pure: no I/O, no store; times in whole seconds.
//
// The rules (ATTENDANCE_RULES below says them in words for the README and the API description):
// - An open session ends at roomClosedAt (if ≥ its join), else at closesAt once the window is over
//   (Prosody destroys the room then), else it is still running and counts until now.
// - A member's presence is the union of their sessions; the overlap is the intersection of both unions.
// - Status, first match: cancelled and no member joined; a member present; window open (not started
//   or in progress); window over (therapist no-show, client no-show, completed).
// - Order and repeats of the input never change the answer: records of one occupant merge.

export interface OccupantSession {
  /** One occupant's stay (Prosody's occupant_jid: a reconnect is a new session). */
  occupantKey: string;
  /** The token's context.user.id, if the occupant had one. */
  userId: string | undefined;
  joinedAt: number;
  /** Undefined while Prosody has not reported the leave. */
  leftAt: number | undefined;
}

export interface AttendanceInput {
  therapistId: string;
  clientId: string;
  /** The appointment's window (tokens valid from opensAt to closesAt). */
  opensAt: number;
  closesAt: number;
  status: 'scheduled' | 'cancelled';
  /** When Prosody reported the room destroyed (the session's room closed), if it did and no later join happened. */
  roomClosedAt: number | undefined;
  sessions: readonly OccupantSession[];
  now: number;
}

export type AttendanceStatus = 'completed' | 'client-no-show' | 'therapist-no-show' | 'in-progress' | 'not-started' | 'cancelled';

export interface MemberAttendance {
  joined: boolean;
  firstJoinAt: number | undefined;
  /** Undefined while present or never joined. */
  lastLeaveAt: number | undefined;
  /** In the room now. */
  present: boolean;
  /** The union of its sessions (two tabs at once count once). */
  secondsPresent: number;
  /** secondsPresent / 60, rounded to one decimal. */
  minutesPresent: number;
}

export interface OtherAttendee extends MemberAttendance {
  userId: string | null;
  flagged: true;
}

export interface Attendance {
  status: AttendanceStatus;
  therapist: MemberAttendance;
  client: MemberAttendance;
  /** The intersection of the therapist's and the client's presence. */
  bothPresentSeconds: number;
  bothPresentMinutes: number;
  /** Anyone else who was in the room (an id that is neither member, or no id): flagged. */
  others: OtherAttendee[];
}

/** The rules in words, for the README and the API description (one line each). */
export const ATTENDANCE_RULES: readonly string[] = [
  'A session is one occupant connection (Prosody occupant_jid); a reconnect is a new session.',
  'Records with the same occupant and user id are one session: the earliest join and the latest reported leave count, so order and repeats never change the result.',
  'A session ends when its leave is reported. A session with no reported leave ends when Prosody destroyed the room, or at the end of the window once it is over; until then it counts up to now.',
  'A session never ends before it began.',
  'Sessions belong to the therapist or the client by the user id in their token; anyone else (another id, or none) is listed under others and flagged, one entry per id.',
  "A person's time present is the union of their sessions: two tabs open at once count once.",
  "Time both present is the overlap of the therapist's and the client's presence, reported for billing.",
  'Present means a session still running: no leave reported, the room not destroyed since, and the window not over.',
  'Status, first match wins: cancelled, if the appointment was cancelled and neither member joined;',
  'in-progress, if the therapist or the client is present now;',
  'while the window is open: not-started if neither member joined, else in-progress (the session can resume);',
  'once the window is over: therapist-no-show if the therapist never joined, else client-no-show if the client never joined, else completed.',
  'A cancelled appointment that someone joined follows the same rules as a scheduled one.',
];

/** A stretch of time, from start to end (end ≥ start), in seconds. */
interface Interval {
  start: number;
  end: number;
}

/** One session with its end settled, as counted. */
interface CountedSession {
  userId: string | undefined;
  interval: Interval;
  running: boolean;
}

export function summarizeAttendance(input: AttendanceInput): Attendance {
  const counted = mergeRepeatedRecords(input.sessions).map((session) => countSession(session, input));
  const therapistSessions = counted.filter((session) => session.userId === input.therapistId);
  const clientSessions = counted.filter((session) => session.userId === input.clientId);
  const therapist = memberAttendance(therapistSessions);
  const client = memberAttendance(clientSessions);
  const bothPresentSeconds = totalLength(intersectUnions(unionOf(therapistSessions), unionOf(clientSessions)));
  return {
    status: attendanceStatus(input, therapist, client),
    therapist,
    client,
    bothPresentSeconds,
    bothPresentMinutes: secondsToMinutes(bothPresentSeconds),
    others: otherAttendees(counted, [input.therapistId, input.clientId]),
  };
}

/** Merges records of one occupant (same key and user id): the earliest join, the latest reported leave. */
function mergeRepeatedRecords(sessions: readonly OccupantSession[]): OccupantSession[] {
  const merged = new Map<string, OccupantSession>();
  for (const session of sessions) {
    // The user id is part of the key so that a record claiming another id is never hidden by a merge.
    const key = JSON.stringify([session.occupantKey, session.userId ?? null]);
    const seen = merged.get(key);
    merged.set(key, seen ? { ...seen, joinedAt: Math.min(seen.joinedAt, session.joinedAt), leftAt: latestKnown(seen.leftAt, session.leftAt) } : session);
  }
  return [...merged.values()];
}

function latestKnown(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}

/** Settles a session's end: its leave, else the room's destruction, else the window's end once over, else now. */
function countSession(session: OccupantSession, input: Pick<AttendanceInput, 'roomClosedAt' | 'closesAt' | 'now'>): CountedSession {
  const { joinedAt, leftAt, userId } = session;
  if (leftAt !== undefined) return { userId, interval: { start: joinedAt, end: Math.max(joinedAt, leftAt) }, running: false };
  const openEnds: number[] = [];
  if (input.roomClosedAt !== undefined && input.roomClosedAt >= joinedAt) openEnds.push(input.roomClosedAt);
  if (input.now >= input.closesAt) openEnds.push(input.closesAt);
  const running = openEnds.length === 0;
  const end = running ? input.now : Math.min(...openEnds);
  return { userId, interval: { start: joinedAt, end: Math.max(joinedAt, end) }, running };
}

function memberAttendance(sessions: readonly CountedSession[]): MemberAttendance {
  const present = sessions.some((session) => session.running);
  const secondsPresent = totalLength(unionOf(sessions));
  const joined = sessions.length > 0;
  return {
    joined,
    firstJoinAt: joined ? Math.min(...sessions.map((session) => session.interval.start)) : undefined,
    lastLeaveAt: joined && !present ? Math.max(...sessions.map((session) => session.interval.end)) : undefined,
    present,
    secondsPresent,
    minutesPresent: secondsToMinutes(secondsPresent),
  };
}

/** Everyone who is not a member, one entry per id (sessions without one under null), ids sorted, null last. */
function otherAttendees(sessions: readonly CountedSession[], memberIds: readonly string[]): OtherAttendee[] {
  const byUser = new Map<string | null, CountedSession[]>();
  for (const session of sessions) {
    if (session.userId !== undefined && memberIds.includes(session.userId)) continue;
    const userId = session.userId ?? null;
    byUser.set(userId, [...(byUser.get(userId) ?? []), session]);
  }
  return [...byUser.keys()].sort(nullLast).map((userId) => ({ userId, flagged: true, ...memberAttendance(byUser.get(userId)!) }));
}

function nullLast(a: string | null, b: string | null): number {
  if (a === null || b === null) return (a === null ? 1 : 0) - (b === null ? 1 : 0);
  return a < b ? -1 : a > b ? 1 : 0;
}

function attendanceStatus(input: AttendanceInput, therapist: MemberAttendance, client: MemberAttendance): AttendanceStatus {
  const anyoneJoined = therapist.joined || client.joined;
  if (input.status === 'cancelled' && !anyoneJoined) return 'cancelled';
  if (therapist.present || client.present) return 'in-progress';
  if (input.now < input.closesAt) return anyoneJoined ? 'in-progress' : 'not-started';
  if (!therapist.joined) return 'therapist-no-show';
  if (!client.joined) return 'client-no-show';
  return 'completed';
}

/** The sessions' intervals as disjoint intervals sorted by start (touching ones joined). */
function unionOf(sessions: readonly CountedSession[]): Interval[] {
  const sorted = sessions.map((session) => session.interval).sort((a, b) => a.start - b.start);
  const union: Interval[] = [];
  for (const interval of sorted) {
    const last = union.at(-1);
    if (last && interval.start <= last.end) last.end = Math.max(last.end, interval.end);
    else union.push({ ...interval });
  }
  return union;
}

/** The overlap of two sorted lists of disjoint intervals. */
function intersectUnions(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const overlap: Interval[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const start = Math.max(a[i]!.start, b[j]!.start);
    const end = Math.min(a[i]!.end, b[j]!.end);
    if (start < end) overlap.push({ start, end });
    if (a[i]!.end < b[j]!.end) i++;
    else j++;
  }
  return overlap;
}

function totalLength(intervals: readonly Interval[]): number {
  return intervals.reduce((sum, interval) => sum + (interval.end - interval.start), 0);
}

function secondsToMinutes(seconds: number): number {
  return Math.round(seconds / 6) / 10;
}
