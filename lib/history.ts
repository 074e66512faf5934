// How every write to an appointment is made: read its newest events, decide, and append the
// decision as the next event, in one conditional write that holds the new state and the audit
// records together. If another writer took that place first (a cancel, say), read again and
// decide again: the condition, not timing, orders a token after a cancel. A retry of the same
// request (same route, asker and body) finds its own event and answers what the first call did,
// re-signing the same tokens from the times the event kept, so a failure at any point is
// repaired by retrying. Refusals are counted into the asker's refusal record before the error
// is thrown (lib/store/audit.ts).
import { createHash, createHmac, sign, type KeyObject } from 'node:crypto';
import type { Settings } from './config.ts';
import { AppointmentStateError, UnavailableError } from './errors.ts';
import { issueTokens, type IssuedToken } from './issue.ts';
import type { Clock, Keyring } from './keyring.ts';
import type { Logger } from './log.ts';
import { eventsOfHistory, type Publisher } from './platform-events.ts';
import type { Appointment, AppointmentEvent, AppointmentStore, AuditRecord, Grant } from './store.ts';
import type { JitsiUser } from './token.ts';

export interface HistoryDeps {
  settings: Settings;
  keyring: Keyring;
  store: AppointmentStore;
  clock: Clock;
  /** Tells the platform what was decided (EventBridge in AWS, a webhook locally, or nothing). */
  publisher: Publisher;
  logger: Logger;
}

/** What every operation knows about the request, for the audit trail. */
export interface Asking {
  /** The id of whoever asks: the caller, the body's id with AUTH_MODE=none, or `prosody`. */
  actor: string;
  requestId: string;
}

/** How long a retry of the same request gets the first call's answer instead of a new decision. */
export const RETRY_WINDOW_SECONDS = 120;
/** Writers racing for the same appointment: how often one re-reads before giving up with 409. */
const MAX_ATTEMPTS = 8;
/** Between attempts a writer waits a random time up to this many ms times the attempt, so racers spread out. */
const BACKOFF_MS = 4;

/** A refusal to record on the appointment's trail (one record per asker, reason and day) before it is answered. */
export class Refusal {
  constructor(
    readonly error: Error,
    readonly note: string,
    readonly role?: 'therapist' | 'client' | undefined,
    /** Who is refused, when only the decision knows (a join link's client). */
    readonly actor?: string | undefined,
  ) {}
}

/** A request's fingerprint: route, asker and what it asked for. Never stored with its parts. */
export function requestKeyOf(route: string, ...parts: unknown[]): string {
  return createHash('sha256')
    .update(JSON.stringify([route, ...parts]), 'utf8')
    .digest('base64url');
}

/**
 * A name only this service can compute (a room, a join code), from the signing key: HMAC for
 * HS256, a deterministic RSA signature for RS256. A retry of the same request computes the same
 * name, so nothing it wrote before failing is left orphaned; nobody without the key can guess it.
 */
export async function derivedSecret(keyring: Keyring, purpose: string, ...parts: unknown[]): Promise<Buffer> {
  const { signingKey } = await keyring.current();
  const message = JSON.stringify([purpose, ...parts]);
  const material = isSecretKey(signingKey)
    ? createHmac('sha256', signingKey).update(message, 'utf8').digest()
    : sign('sha256', Buffer.from(message, 'utf8'), signingKey);
  return createHash('sha256').update(material).digest();
}
const isSecretKey = (key: KeyObject) => key.type === 'secret';

export interface Member {
  user: JitsiUser;
  role: 'therapist' | 'client';
}

/** Signs the members' tokens for the appointment with the given times (the same times give the same tokens). */
export function signForMembers(deps: HistoryDeps, state: Appointment, members: readonly Member[], grants: readonly Grant[]): Promise<IssuedToken[]> {
  return issueTokens(
    deps.keyring,
    deps.settings,
    members.map(({ user, role }, index) => ({
      room: state.room,
      tenant: state.tenant,
      user,
      moderator: role === 'therapist',
      times: grants[index]!,
      appointmentVersion: state.version,
    })),
  );
}

/**
 * The event a retry of this request wrote, while answering it again still says what is true: it
 * is recent, and the appointment has not changed since (a move or a cancel moves the version, so
 * a retry after a cancel is decided anew, and refused).
 */
export function replayOf(history: readonly AppointmentEvent[], requestKey: string, now: number): AppointmentEvent | undefined {
  const current = history[0]?.state;
  const event = history.find((candidate) => candidate.requestKey === requestKey && (candidate.records[0]?.at ?? 0) >= now - RETRY_WINDOW_SECONDS);
  if (event === undefined || current === undefined) return undefined;
  return event.state.version === current.version && current.status === 'scheduled' ? event : undefined;
}

/** One decision: its answer, and the event to write for it (none when nothing changes or a retry is answered). */
export interface Decision<T> {
  result: T;
  event?: Omit<AppointmentEvent, 'seq'> | undefined;
  /** A retry answered from this earlier event: what it told the platform is told again (same ids). */
  replayed?: AppointmentEvent | undefined;
}

/**
 * Reads the appointment's newest events, decides, and appends the decision's event at the next
 * place in its history. The decision may run more than once (after a lost race): it must not
 * write anything but idempotent side records itself.
 */
export async function decideAndRecord<T>(
  deps: HistoryDeps,
  appointmentId: string,
  asking: Asking,
  decide: (history: AppointmentEvent[]) => Promise<Decision<T>>,
  firstRead?: AppointmentEvent[],
  /** mustPublish: the platform must have been told (a 503 otherwise, so the sender retries: Prosody). */
  options: { mustPublish?: boolean } = {},
): Promise<T> {
  const publish = async (event: AppointmentEvent) => {
    const told = await deps.publisher.publish(eventsOfHistory(event));
    if (!told && options.mustPublish) throw new UnavailableError('events', 'The platform could not be told; retry shortly.');
  };
  let history = firstRead;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    history ??= await deps.store.appointments.recent(appointmentId);
    let decision: Decision<T>;
    try {
      decision = await decide(history);
    } catch (error) {
      if (error instanceof Refusal) return recordRefusal(deps, appointmentId, asking, error, history.length > 0);
      throw error;
    }
    if (decision.event === undefined) {
      if (decision.replayed !== undefined) await publish(decision.replayed);
      return decision.result;
    }
    const event = { ...decision.event, seq: (history[0]?.seq ?? 0) + 1, keepUntil: history[0]?.keepUntil };
    if (await deps.store.appointments.append(event)) {
      // After the write: the platform hears only of what was recorded. A failure to tell it is logged (and, for
      // Prosody's events, answered 503 so Prosody sends them again); a retried request tells it again.
      await publish(event);
      return decision.result;
    }
    history = undefined;
    await new Promise((resume) => setTimeout(resume, Math.random() * BACKOFF_MS * (attempt + 1)));
  }
  throw new AppointmentStateError('conflict', 'The appointment changed while this request was decided; retry.');
}

/**
 * Counts the refusal into the asker's record (for an unknown id: the same write, refused by its
 * condition), then throws it. Without caller authentication an asker's id is only a claim, so
 * strangers' refusals are counted together per reason (the record keeps the last id claimed):
 * inventing ids cannot add records.
 */
export async function recordRefusal(deps: HistoryDeps, appointmentId: string, asking: Asking, refusal: Refusal, exists: boolean): Promise<never> {
  const actor = refusal.actor ?? asking.actor;
  const record: AuditRecord = { appointmentId, at: deps.clock.nowSeconds(), action: 'refused', actor, requestId: asking.requestId, note: refusal.note };
  if (refusal.role !== undefined) record.role = refusal.role;
  const countedAs = deps.settings.authMode === 'none' && refusal.role === undefined ? 'unauthenticated' : actor;
  await deps.store.audit.refused(record, countedAs, exists);
  throw refusal.error;
}
