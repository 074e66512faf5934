// Every parameter of the clinic simulation, in one place, with where each figure comes from.
// docs/PERFORMANCE.md repeats the sources; change a figure here and re-run `npm run simulate`.
import type { ClinicModel } from './model.ts';

export const SEED = 20261125;

/** Clinic sizes compared (therapists). */
export const CLINIC_SIZES = [5, 50, 500] as const;

/** A therapy practice's week: 6 sessions of 50 minutes a day, on the hour, Monday to Friday. */
export const CLINIC: Omit<ClinicModel, 'therapists'> = {
  sessionsPerTherapistPerDay: 6,
  sessionMinutes: 50,
  joinLinkShare: 0.3,
  refreshChance: 0.2,
  validateChance: 0.5,
};

/**
 * How long Lambda keeps an idle environment. AWS documents none; published measurements of
 * Node.js functions (e.g. Mikhail Shilkov's cold-start series, 2019–2021, and later re-runs) saw
 * idle environments reclaimed after roughly 5 to 15 minutes, sometimes up to ~45. The model draws
 * a lognormal idle lifetime around each median below (sigma 0.3) and runs all three.
 */
export const IDLE_MEDIANS_MINUTES = [5, 15, 45] as const;
export const IDLE_SIGMA = 0.3;

/**
 * Lambda's own start before our code loads: the Node.js runtime's init on arm64 with a small
 * bundle, about 100–200 ms in public daily measurements (e.g. the lambda-perf project); 150 ms
 * here. Our part (import + first answer, measured by `npm run bench` on this machine with the
 * secret and the store on loopback) is added, plus one in-region Secrets Manager and DynamoDB
 * round trip (~25 ms) that loopback does not show.
 */
export const RUNTIME_START_MS = 150;
export const IN_REGION_CALLS_MS = 25;

/**
 * Our part of a cold start per layout, measured by `npm run bench` (its "layout …" and caller-api
 * create-room rows: import + first answer with Secrets Manager and the store on loopback, the
 * deployed split build, Node 20, this machine). Every route the clinic calls reads or writes an
 * appointment, so its first request loads the DynamoDB client: create-room's figure. The layouts
 * differ by a millisecond or two, since a bundle's start-up file holds little besides the SDK.
 */
export const MEASURED_COLD_MS = { 'per route': 105, grouped: 105, single: 107 } as const;
/** Warm durations (ms): a token only; a token with one store read and one audit write. */
export const WARM_MS = { token: 20, store: 35 } as const;

/** List prices, us-east-1, arm64 (late 2025): Lambda requests, duration, provisioned concurrency. */
export const PRICES = {
  perRequest: 0.2 / 1_000_000,
  perGbSecond: 0.0000133334,
  provisionedPerGbSecond: 0.0000033334,
  provisionedDurationPerGbSecond: 0.0000077778,
} as const;
export const MEMORY_GB = 0.25;
export const WEEKS_PER_MONTH = 4.345;
/** The stack's keep-warm schedule (on unless `-c keepWarm=off`). */
export { KEEP_WARM_EVERY_MINUTES } from '../../lib/routes.ts';
