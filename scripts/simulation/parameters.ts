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
 * here. Our part is measured by `npm run bench:cpu` (below), plus one in-region Secrets Manager
 * and DynamoDB round trip (~25 ms) that loopback does not show, spent in the init phase.
 */
export const RUNTIME_START_MS = 150;
export const IN_REGION_CALLS_MS = 25;

/** One function at one memory size: its init (full core), and its first and warm answers at the memory's CPU share, without and with a store call. */
export interface CappedFigures {
  initMs: number;
  first: { token: number; store: number };
  warm: { token: number; store: number };
}

/**
 * `npm run bench:cpu` on this machine, Node 24 (Lambda's runtime), 2026-12-02, medians of 7
 * fresh processes (docs/PERFORMANCE.md has the whole table): init on a full core, then the
 * process capped at the memory's share of a vCPU. caller-api: `token` is an ad-hoc
 * generate-token, `store` a create-room (its heaviest: one query and up to three conditional
 * writes); reservations-api: reservation-create for both. Layouts other than the grouped one
 * load the same start-up file within a millisecond or two (npm run bench), so they share these.
 */
/** A function whose every route reads and writes the store (Prosody's): one figure for both kinds. */
const everyRoute = (initMs: number, first: number, warm: number): CappedFigures => ({
  initMs,
  first: { token: first, store: first },
  warm: { token: warm, store: warm },
});

export const CAPPED_MS: Readonly<Record<'caller-api' | 'reservations-api', Readonly<Record<number, CappedFigures>>>> = {
  'caller-api': {
    128: { initMs: 110, first: { token: 2.43, store: 511 }, warm: { token: 0.22, store: 300 } },
    256: { initMs: 111, first: { token: 2.71, store: 206 }, warm: { token: 0.2, store: 120 } },
    512: { initMs: 104, first: { token: 2.48, store: 82.7 }, warm: { token: 0.19, store: 40.4 } },
    1024: { initMs: 108, first: { token: 2.32, store: 40.5 }, warm: { token: 0.18, store: 18.7 } },
    1769: { initMs: 107, first: { token: 2.3, store: 24.7 }, warm: { token: 0.21, store: 12.1 } },
  },
  'reservations-api': {
    128: everyRoute(117, 80.8, 80),
    256: everyRoute(109, 19.1, 21),
    512: everyRoute(112, 7.18, 14.2),
    1024: everyRoute(109, 6.37, 2.85),
    1769: everyRoute(113, 6.3, 2.87),
  },
};
/** The memory sizes the burst is simulated at. */
export const BURST_MEMORY_SIZES_MB = [256, 512, 1024, 1769] as const;

/** List prices, us-east-1, arm64 (late 2025): Lambda requests, duration, provisioned concurrency. */
export const PRICES = {
  perRequest: 0.2 / 1_000_000,
  perGbSecond: 0.0000133334,
  provisionedPerGbSecond: 0.0000033334,
  provisionedDurationPerGbSecond: 0.0000077778,
} as const;
export const WEEKS_PER_MONTH = 4.345;
/** The stack's keep-warm schedule (on unless `-c keepWarm=off`). */
export { KEEP_WARM_EVERY_MINUTES } from '../../lib/routes.ts';
