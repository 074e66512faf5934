// npm run simulate: a simulated clinic week per clinic size, idle lifetime and function layout,
// printing what share of the requests someone waits on meet a cold start, the added latency
// (p50/p95/p99 over those requests) and the month's Lambda cost; then the on-the-hour burst
// (every session of the clinic starting at 09:00 after a quiet night) per memory size: the
// answer a patient waits for, p50/p95/p99. Durations are npm run bench:cpu's, at each function's
// CPU share. Deterministic for the seed in scripts/simulation/parameters.ts.
import { FUNCTIONS, functionOf, ROUTES, routesDeployedWith, type RouteDefinition } from '../lib/routes.ts';
import {
  clinicWeek,
  Fleet,
  keepWarmPings,
  lognormal,
  onTheHourBurst,
  percentile,
  seededRandom,
  type FunctionModel,
  type Invocation,
} from './simulation/model.ts';
import {
  CLINIC,
  CLINIC_SIZES,
  IDLE_MEDIANS_MINUTES,
  IDLE_SIGMA,
  BURST_MEMORY_SIZES_MB,
  CAPPED_MS,
  IN_REGION_CALLS_MS,
  KEEP_WARM_EVERY_MINUTES,
  PRICES,
  RUNTIME_START_MS,
  SEED,
  WEEKS_PER_MONTH,
} from './simulation/parameters.ts';

type Layout = 'per route' | 'grouped' | 'single';
type Option = 'none' | 'provisioned 1' | 'keep-warm';

/** The function a route runs in, per layout. Grouped: the route table's `runsIn`, as the stack deploys it. */
export function functionInLayout(route: RouteDefinition, layout: Layout): string {
  if (layout === 'per route') return route.name;
  if (layout === 'single') return 'all';
  const fn = functionOf(route);
  if (fn === undefined) throw new Error(`${route.name} is not deployed`);
  return fn.name;
}

const deployed = routesDeployedWith('hs256');
const byName = new Map(deployed.map((route) => [route.name, route]));
const usesStore = (route: RouteDefinition) => route.store.length > 0;

/** Each function's memory: the route table's (as the stack deploys it), or one size for every function. */
function memoryOf(name: string, memoryMb: number | undefined): number {
  if (memoryMb !== undefined) return memoryMb;
  const fn = Object.values(FUNCTIONS).find((candidate) => candidate.name === name);
  // A route alone in its function gets its group's size; one function for everything, the web app's.
  const route = byName.get(name);
  return fn?.memoryMb ?? (route ? functionOf(route)!.memoryMb : FUNCTIONS.callerApi.memoryMb);
}

/** bench:cpu's figures for a route at a memory size: Prosody's routes from reservations-api, the others from caller-api. */
function figuresOf(route: RouteDefinition, memoryMb: number) {
  const figures = CAPPED_MS[route.runsIn === 'reservationsApi' ? 'reservations-api' : 'caller-api'][memoryMb];
  if (figures === undefined) throw new Error(`no bench:cpu figures at ${memoryMb} MB`);
  return figures;
}

function functionsFor(layout: Layout, option: Option, memoryMb?: number): Record<string, FunctionModel> {
  const functions: Record<string, FunctionModel> = {};
  for (const route of deployed) {
    const name = functionInLayout(route, layout);
    if (functions[name] !== undefined) continue;
    const memory = memoryOf(name, memoryMb);
    functions[name] = {
      coldInitMs: figuresOf(route, memory).initMs + IN_REGION_CALLS_MS,
      durationMs: (routeName) => {
        // A keep-warm ping is answered before any route's work: about a millisecond.
        if (routeName.startsWith('ping:')) return { first: 1, warm: 1 };
        const figures = figuresOf(byName.get(routeName)!, memory);
        const kind = usesStore(byName.get(routeName)!) ? 'store' : 'token';
        return { first: figures.first[kind], warm: figures.warm[kind] };
      },
      // Provisioned concurrency on the function the patient's browser calls.
      provisioned: option === 'provisioned 1' && (name === FUNCTIONS.callerApi.name || name === 'all' || name === ROUTES.generateToken.name) ? 1 : 0,
    };
  }
  return functions;
}

export interface Row {
  therapists: number;
  idleMinutes: number;
  layout: Layout;
  option: Option;
  userFacing: number;
  coldShare: number;
  p50: number;
  p95: number;
  p99: number;
  monthlyUsd: number;
}

interface Run {
  userFacing: number;
  coldShare: number;
  /** What cold starts added (ms), over every request someone waited on. */
  added: number[];
  /** The whole answer each of them waited for (ms). */
  answers: number[];
  monthlyUsd: number;
}

function run(calls: readonly Invocation[], layout: Layout, option: Option, idleMinutes: number, random: () => number, memoryMb?: number): Run {
  const functions = functionsFor(layout, option, memoryMb);
  const fleet = new Fleet(functions, { runtimeStartMs: RUNTIME_START_MS, idleLifetime: (r) => lognormal(r, idleMinutes * 60_000, IDLE_SIGMA) }, random);
  const pings = option === 'keep-warm' ? keepWarmPings(Object.keys(functions), KEEP_WARM_EVERY_MINUTES * 60_000) : [];
  const all: Invocation[] = [...calls, ...pings].sort((a, b) => a.at - b.at);
  const added: number[] = [];
  const answers: number[] = [];
  let cold = 0;
  let gbSeconds = 0;
  for (const call of all) {
    const name = call.route.startsWith('ping:') ? call.route.slice(5) : functionInLayout(byName.get(call.route)!, layout);
    const outcome = fleet.invoke(name, call);
    gbSeconds += (outcome.billedMs / 1000) * (memoryOf(name, memoryMb) / 1024);
    if (!call.userFacing) continue;
    added.push(outcome.addedMs);
    answers.push(outcome.answerMs);
    if (outcome.cold) cold++;
  }
  const provisioned = Object.entries(functions).filter(([, fn]) => fn.provisioned > 0);
  const monthSeconds = WEEKS_PER_MONTH * 7 * 86_400;
  const monthly =
    WEEKS_PER_MONTH * (all.length * PRICES.perRequest + gbSeconds * (provisioned.length > 0 ? PRICES.provisionedDurationPerGbSecond : PRICES.perGbSecond)) +
    provisioned.reduce((sum, [name, fn]) => sum + fn.provisioned * monthSeconds * (memoryOf(name, memoryMb) / 1024) * PRICES.provisionedPerGbSecond, 0);
  return { userFacing: added.length, coldShare: cold / Math.max(1, added.length), added, answers, monthlyUsd: monthly };
}

export function simulate(therapists: number, idleMinutes: number, layout: Layout, option: Option, seed = SEED): Row {
  const random = seededRandom(seed);
  const week = clinicWeek({ ...CLINIC, therapists }, random);
  const result = run(week, layout, option, idleMinutes, random);
  return {
    therapists,
    idleMinutes,
    layout,
    option,
    userFacing: result.userFacing,
    coldShare: result.coldShare,
    p50: percentile(result.added, 50),
    p95: percentile(result.added, 95),
    p99: percentile(result.added, 99),
    monthlyUsd: result.monthlyUsd,
  };
}

export interface BurstRow {
  therapists: number;
  /** One size for both functions, or undefined: each its route table size (as deployed). */
  memoryMb: number | undefined;
  option: Option;
  requests: number;
  coldShare: number;
  /** The answer a patient (or Prosody) waits for, cold start included (ms). */
  p50: number;
  p95: number;
  p99: number;
}

/** The on-the-hour burst after a quiet night, the grouped layout, every function at `memoryMb` (undefined: as deployed). */
export function simulateBurst(therapists: number, memoryMb: number | undefined, option: Option, seed = SEED): BurstRow {
  const random = seededRandom(seed);
  const burst = onTheHourBurst({ ...CLINIC, therapists }, random);
  // A quiet night: the keep-warm ping (when on) has kept one environment of each function alive; nothing else is.
  const result = run(burst, 'grouped', option, 15, random, memoryMb);
  return {
    therapists,
    memoryMb,
    option,
    requests: result.userFacing,
    coldShare: result.coldShare,
    p50: percentile(result.answers, 50),
    p95: percentile(result.answers, 95),
    p99: percentile(result.answers, 99),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const layouts: Layout[] = ['per route', 'grouped', 'single'];
  const options: Option[] = ['none', 'provisioned 1', 'keep-warm'];
  console.log(`simulate: seed ${SEED}, one working week per row, ${deployed.length} deployed routes\n`);
  console.log('| therapists | idle median | layout | option | requests waited on / week | cold share | added p50 / p95 / p99 ms | Lambda $ / month |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const therapists of CLINIC_SIZES) {
    for (const idleMinutes of IDLE_MEDIANS_MINUTES) {
      for (const layout of layouts) {
        for (const option of options) {
          const r = simulate(therapists, idleMinutes, layout, option);
          console.log(
            `| ${therapists} | ${idleMinutes} min | ${layout} | ${option} | ${r.userFacing} | ${(r.coldShare * 100).toFixed(1)} % | ${Math.round(r.p50)} / ${Math.round(r.p95)} / ${Math.round(r.p99)} | ${r.monthlyUsd.toFixed(2)} |`,
          );
        }
      }
    }
  }
  console.log(`\nThe on-the-hour burst: every therapist's session at 09:00 after a quiet night, joins from 2 minutes before to 2 after (grouped layout)\n`);
  console.log('| therapists | memory | option | requests waited on | cold share | answer p50 / p95 / p99 ms |');
  console.log('|---|---|---|---|---|---|');
  const deployedSizes = `as deployed (${FUNCTIONS.callerApi.name} ${FUNCTIONS.callerApi.memoryMb} MB, ${FUNCTIONS.reservationsApi.name} ${FUNCTIONS.reservationsApi.memoryMb} MB)`;
  for (const therapists of CLINIC_SIZES) {
    for (const memoryMb of [undefined, ...BURST_MEMORY_SIZES_MB]) {
      for (const option of ['none', 'keep-warm'] as const) {
        const r = simulateBurst(therapists, memoryMb, option);
        console.log(
          `| ${therapists} | ${memoryMb === undefined ? deployedSizes : `both ${memoryMb.toLocaleString('en-US')} MB`} | ${option} | ${r.requests} | ${(r.coldShare * 100).toFixed(1)} % | ${Math.round(r.p50)} / ${Math.round(r.p95)} / ${Math.round(r.p99)} |`,
        );
      }
    }
  }
}
