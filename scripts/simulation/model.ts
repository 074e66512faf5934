// A small discrete-event model of a clinic's traffic and of Lambda's execution environments, to
// compare function layouts by what a patient waits for: how often a request meets a cold start,
// how long that adds, and what a month costs. Deterministic for a seed. The parameters and their
// sources are in scripts/simulation/parameters.ts and docs/PERFORMANCE.md.
import { ROUTES } from '../../lib/routes.ts';

/** mulberry32: a small, fast, seedable PRNG (deterministic runs). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export const uniform = (random: () => number, min: number, max: number) => min + (max - min) * random();

/** A lognormal sample with the given median (ms) and spread (sigma of the log). */
export function lognormal(random: () => number, median: number, sigma: number): number {
  const u = Math.max(random(), Number.EPSILON);
  const v = random();
  return median * Math.exp(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
}

export interface Invocation {
  /** Milliseconds since the start of the simulated week. */
  at: number;
  route: string;
  /** Someone waits on it (a therapist, a client, or Prosody holding a join). */
  userFacing: boolean;
}

export interface EnvironmentModel {
  /** How long an idle environment lives before Lambda reclaims it (ms), drawn per idle spell. */
  idleLifetime(random: () => number): number;
  /** Lambda's runtime start before our code loads (ms). */
  runtimeStartMs: number;
}

export interface FunctionModel {
  /** Our part of the init phase, on a full core (Lambda does not throttle init): importing the bundle and the first request's work done there (ms). */
  coldInitMs: number;
  /** A request's duration at the function's CPU share (its memory): the first in a new environment, and a warm one (ms). */
  durationMs(route: string): { first: number; warm: number };
  /** Environments kept initialised (provisioned concurrency). */
  provisioned: number;
}

export interface Outcome {
  invocation: Invocation;
  functionName: string;
  cold: boolean;
  /** What the cold start added to this request (ms); 0 when warm. */
  addedMs: number;
  /** How long the caller waited for the answer (ms): the cold start and the request. */
  answerMs: number;
  billedMs: number;
}

interface Environment {
  busyUntil: number;
  reclaimAt: number;
}

/**
 * Lambda's behaviour as the model has it: one request per environment at a time; a request
 * takes an idle environment that has not been reclaimed (the most recently used first), else
 * starts a new one (cold); an environment is reclaimed after an idle time drawn anew each time
 * it goes idle; provisioned environments are never reclaimed and start initialised.
 */
export class Fleet {
  private readonly environments = new Map<string, Environment[]>();

  constructor(
    private readonly functions: Readonly<Record<string, FunctionModel>>,
    private readonly model: EnvironmentModel,
    private readonly random: () => number,
  ) {
    for (const [name, fn] of Object.entries(functions)) {
      this.environments.set(
        name,
        Array.from({ length: fn.provisioned }, () => ({ busyUntil: 0, reclaimAt: Number.POSITIVE_INFINITY })),
      );
    }
  }

  invoke(functionName: string, invocation: Invocation): Outcome {
    const fn = this.functions[functionName];
    const pool = this.environments.get(functionName);
    if (fn === undefined || pool === undefined) throw new Error(`no function ${functionName}`);
    const at = invocation.at;
    const idle = pool.filter((environment) => environment.busyUntil <= at && environment.reclaimAt > at);
    // The most recently used idle environment first, as Lambda tends to.
    const warm = idle.sort((a, b) => b.busyUntil - a.busyUntil)[0];
    const duration = fn.durationMs(invocation.route);
    if (warm !== undefined) {
      warm.busyUntil = at + duration.warm;
      if (Number.isFinite(warm.reclaimAt)) warm.reclaimAt = warm.busyUntil + this.model.idleLifetime(this.random);
      return { invocation, functionName, cold: false, addedMs: 0, answerMs: duration.warm, billedMs: duration.warm };
    }
    const answerMs = this.model.runtimeStartMs + fn.coldInitMs + duration.first;
    const busyUntil = at + answerMs;
    pool.push({ busyUntil, reclaimAt: busyUntil + this.model.idleLifetime(this.random) });
    // Lambda bills the init phase of on-demand environments (since August 2025) as well.
    return { invocation, functionName, cold: true, addedMs: answerMs - duration.warm, answerMs, billedMs: answerMs };
  }
}

/** The p-th percentile (0–100) of values, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface ClinicModel {
  therapists: number;
  sessionsPerTherapistPerDay: number;
  sessionMinutes: number;
  /** Share of clients who join with a join link instead of their own token request. */
  joinLinkShare: number;
  /** Chance a party reconnects mid-session and refreshes its token. */
  refreshChance: number;
  /** Chance the client app validates its token after fetching it. */
  validateChance: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
export const WEEK_MS = 7 * DAY;

/** A simulated working week (Monday to Friday, sessions on the hour from 08:00 to 19:00), sorted by time. */
export function clinicWeek(clinic: ClinicModel, random: () => number): Invocation[] {
  const calls: Invocation[] = [];
  const call = (at: number, route: string, userFacing = true) => calls.push({ at, route, userFacing });
  for (let day = 0; day < 5; day++) {
    for (let therapist = 0; therapist < clinic.therapists; therapist++) {
      const slots = Array.from({ length: 12 }, (_, index) => 8 + index);
      for (let session = 0; session < clinic.sessionsPerTherapistPerDay && slots.length > 0; session++) {
        const [hour] = slots.splice(Math.floor(random() * slots.length), 1);
        const start = day * DAY + hour! * HOUR;
        // Booked by the platform's backend ahead of time (a therapist at a screen, so it counts).
        call(Math.max(0, start - uniform(random, 1, 48) * HOUR), ROUTES.createRoom.name);
        const therapistJoin = start - uniform(random, 0, 5) * MINUTE;
        call(therapistJoin, ROUTES.generateToken.name);
        let clientJoin: number;
        if (random() < clinic.joinLinkShare) {
          call(start - uniform(random, 10, 60) * MINUTE, ROUTES.createJoinLink.name);
          clientJoin = start - uniform(random, 0, 5) * MINUTE;
          call(clientJoin, ROUTES.exchangeJoinLink.name);
        } else {
          clientJoin = start - uniform(random, 0, 5) * MINUTE;
          call(clientJoin, ROUTES.generateToken.name);
          if (random() < clinic.validateChance) call(clientJoin + 500, ROUTES.validateToken.name);
        }
        // Prosody asks before the first person's room exists, and says when it is gone.
        call(Math.min(therapistJoin, clientJoin) + 1_000, ROUTES.reservationCreate.name);
        call(start + clinic.sessionMinutes * MINUTE + uniform(random, 0, 10) * MINUTE, ROUTES.reservationDelete.name, false);
        for (let party = 0; party < 2; party++) {
          if (random() < clinic.refreshChance) call(start + uniform(random, 10, clinic.sessionMinutes) * MINUTE, ROUTES.refreshToken.name);
        }
      }
    }
  }
  return calls.sort((a, b) => a.at - b.at);
}

/**
 * The on-the-hour burst: every therapist of the clinic has a session at 09:00 on a Monday, after
 * a quiet night (no environment left), and everyone joins within minutes of the hour, as a
 * reminder at :00 would have them do. Times are ms from the start of the simulated week.
 */
export function onTheHourBurst(clinic: ClinicModel, random: () => number): Invocation[] {
  const calls: Invocation[] = [];
  const call = (at: number, route: string) => calls.push({ at, route, userFacing: true });
  const start = 9 * HOUR;
  for (let therapist = 0; therapist < clinic.therapists; therapist++) {
    const therapistJoin = start + uniform(random, -2, 1) * MINUTE;
    call(therapistJoin, ROUTES.generateToken.name);
    const clientJoin = start + uniform(random, -2, 2) * MINUTE;
    if (random() < clinic.joinLinkShare) call(clientJoin, ROUTES.exchangeJoinLink.name);
    else {
      call(clientJoin, ROUTES.generateToken.name);
      if (random() < clinic.validateChance) call(clientJoin + 500, ROUTES.validateToken.name);
    }
    call(Math.min(therapistJoin, clientJoin) + 1_000, ROUTES.reservationCreate.name);
  }
  return calls.sort((a, b) => a.at - b.at);
}

/** Keep-warm pings: one invocation of each function every `everyMs`, nobody waiting. */
export function keepWarmPings(functionNames: readonly string[], everyMs: number, weekMs = WEEK_MS): Invocation[] {
  const pings: Invocation[] = [];
  for (let at = 0; at < weekMs; at += everyMs) for (const name of functionNames) pings.push({ at, route: `ping:${name}`, userFacing: false });
  return pings;
}
