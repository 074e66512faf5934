// Ending a meeting in Jitsi: Prosody's end-meeting endpoint (mod_muc_end_meeting) destroys a
// room when asked with a token its token check accepts. That check never compares the token
// with the meeting (docs/JITSI.md), so the endpoint must be reachable by this service alone,
// and each call carries a token of the service's own that lives one minute, is no moderator, and
// names a room nobody meets in: captured, it opens nothing. Tried a bounded number of times; the
// outcome, either way, goes on the appointment's trail. Called after a cancel (never inside it:
// the cancel does not wait on Jitsi) and by the therapist's route.
import { auditRecord, currentState } from './appointments.ts';
import { decideAndRecord, type Asking, type HistoryDeps } from './history.ts';
import { issueTokens } from './issue.ts';
import { attendanceOf } from './jitsi-events.ts';
import type { Appointment } from './store.ts';
import { tokenTimesFrom } from './token.ts';

/** The service's own id in the token it signs its end-meeting calls with, and the room that token names. */
export const SERVICE_USER = { id: 'jitsi-token-api', name: 'jitsi-token-api' } as const;
export const END_MEETING_TOKEN_ROOM = 'jitsi-token-api-end-meeting';
const CALL_TIMEOUT_MS = 2_000;
const BACKOFF_MS = 250;

export interface EndMeetingResult {
  /** `ended`: Prosody destroyed the room; `not-running`: no room to end; `failed`: every attempt failed; `not-configured`: END_MEETING_URL is not set. */
  outcome: 'ended' | 'not-running' | 'failed' | 'not-configured';
  attempts: number;
  status?: number | undefined;
}

/** The room's address as Prosody's MUC knows it: `room@<muc domain>`, or for a tenant `room@conference.<tenant>.<domain>`. */
export function roomAddress(room: string, tenant: string | undefined, mucDomain: string): string {
  if (tenant === undefined) return `${room}@${mucDomain}`;
  return `${room}@${mucDomain.replace(/^conference\./, `conference.${tenant}.`)}`;
}

/** Whether anyone may be in the room: Prosody opened it (reservation API) or someone is in it (event sync). */
async function mayBeRunning(deps: HistoryDeps, appointment: Appointment): Promise<boolean> {
  if (appointment.conference !== undefined) return true;
  const attendance = await attendanceOf(deps, { ...appointment, status: 'scheduled' });
  return attendance.therapist.present || attendance.client.present || attendance.others.some((other) => other.present);
}

/** One POST to Prosody's endpoint; the HTTP status, or 0 when it could not be reached in time. */
async function callEndMeeting(deps: HistoryDeps, url: string, appointment: Appointment): Promise<number> {
  const now = deps.clock.nowSeconds();
  const [token] = await issueTokens(deps.keyring, deps.settings, [
    { room: END_MEETING_TOKEN_ROOM, tenant: appointment.tenant, user: { ...SERVICE_USER }, moderator: false, times: tokenTimesFrom(now, 60) },
  ]);
  const target = new URL(url);
  target.searchParams.set('conference', roomAddress(appointment.room, appointment.tenant, deps.settings.mucDomain));
  try {
    const response = await fetch(target, {
      method: 'POST',
      headers: { authorization: `Bearer ${token!.token}` },
      // A redirect would carry the token somewhere nobody configured.
      redirect: 'manual',
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

/** Ends the appointment's meeting if it may be running; records what happened on its trail. */
export async function endMeeting(deps: HistoryDeps, appointmentId: string, asking: Asking, reason: 'cancelled' | 'therapist'): Promise<EndMeetingResult> {
  const url = deps.settings.endMeetingUrl;
  if (url === undefined) return { outcome: 'not-configured', attempts: 0 };
  const history = await deps.store.appointments.recent(appointmentId, 1);
  const appointment = currentState(history);
  if (appointment === undefined || !(await mayBeRunning(deps, appointment))) return { outcome: 'not-running', attempts: 0 };
  let status = 0;
  let attempts = 0;
  while (attempts < deps.settings.endMeetingAttempts) {
    attempts += 1;
    status = await callEndMeeting(deps, url, appointment);
    // 200: ended; 404: no such room (it ended meanwhile). Anything else is tried again, a little later each time.
    if (status === 200 || status === 404) break;
    if (attempts < deps.settings.endMeetingAttempts) await new Promise((resume) => setTimeout(resume, BACKOFF_MS * 2 ** (attempts - 1)));
  }
  const outcome: EndMeetingResult['outcome'] = status === 200 ? 'ended' : status === 404 ? 'not-running' : 'failed';
  await decideAndRecord(deps, appointmentId, asking, async (events) => {
    const current = currentState(events)!;
    const note = `${reason}: ${outcome === 'failed' ? `failed after ${attempts} attempts (last status ${status || 'no answer'})` : outcome === 'ended' ? 'ended' : 'no such room'}`;
    const record = auditRecord(current, asking, deps.clock.nowSeconds(), outcome === 'failed' ? 'meeting-end-failed' : 'meeting-ended', {
      note,
      ...(reason === 'therapist' ? { role: 'therapist' as const } : {}),
    });
    return { result: undefined, event: { state: current, records: [record] } };
  });
  if (outcome === 'failed') deps.logger.error('meeting not ended', { event: 'end-meeting-failed', attempts, status });
  return { outcome, attempts, status };
}
