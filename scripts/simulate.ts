// npm run simulate: a simulated clinic week per clinic size, idle lifetime and function layout,
// printing what share of the requests someone waits on meet a cold start, the added latency
// (p50/p95/p99 over those requests) and the month's Lambda cost. Deterministic for the seed in
// scripts/simulation/parameters.ts.
import { FUNCTIONS, functionOf, ROUTES, routesDeployedWith, type RouteDefinition } from '../lib/routes.ts';
import { clinicWeek, Fleet, keepWarmPings, lognormal, percentile, seededRandom, type FunctionModel, type Invocation } from './simulation/model.ts';
import {
  CLINIC,
  CLINIC_SIZES,
  IDLE_MEDIANS_MINUTES,
  IDLE_SIGMA,
  IN_REGION_CALLS_MS,
  KEEP_WARM_EVERY_MINUTES,
  MEASURED_COLD_MS,
  MEMORY_GB,
  PRICES,
  RUNTIME_START_MS,
  SEED,
  WARM_MS,
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

function functionsFor(layout: Layout, option: Option): Record<string, FunctionModel> {
  const functions: Record<string, FunctionModel> = {};
  for (const route of deployed) {
    const name = functionInLayout(route, layout);
    functions[name] = {
      coldInitMs: MEASURED_COLD_MS[layout] + IN_REGION_CALLS_MS,
      warmMs: usesStore(route) ? WARM_MS.store : WARM_MS.token,
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

export function simulate(therapists: number, idleMinutes: number, layout: Layout, option: Option, seed = SEED): Row {
  const random = seededRandom(seed);
  const week = clinicWeek({ ...CLINIC, therapists }, random);
  const functions = functionsFor(layout, option);
  const fleet = new Fleet(functions, { runtimeStartMs: RUNTIME_START_MS, idleLifetime: (r) => lognormal(r, idleMinutes * 60_000, IDLE_SIGMA) }, random);
  const pings = option === 'keep-warm' ? keepWarmPings(Object.keys(functions), KEEP_WARM_EVERY_MINUTES * 60_000) : [];
  const calls: Invocation[] = [...week, ...pings].sort((a, b) => a.at - b.at);
  const added: number[] = [];
  let cold = 0;
  let billedMs = 0;
  for (const call of calls) {
    const name = call.route.startsWith('ping:') ? call.route.slice(5) : functionInLayout(byName.get(call.route)!, layout);
    const outcome = fleet.invoke(name, call);
    billedMs += outcome.billedMs;
    if (!call.userFacing) continue;
    added.push(outcome.addedMs);
    if (outcome.cold) cold++;
  }
  const provisionedCount = Object.values(functions).reduce((sum, fn) => sum + fn.provisioned, 0);
  const monthSeconds = WEEKS_PER_MONTH * 7 * 86_400;
  const monthly =
    WEEKS_PER_MONTH *
      (calls.length * PRICES.perRequest + (billedMs / 1000) * MEMORY_GB * (provisionedCount > 0 ? PRICES.provisionedDurationPerGbSecond : PRICES.perGbSecond)) +
    provisionedCount * monthSeconds * MEMORY_GB * PRICES.provisionedPerGbSecond;
  return {
    therapists,
    idleMinutes,
    layout,
    option,
    userFacing: added.length,
    coldShare: cold / Math.max(1, added.length),
    p50: percentile(added, 50),
    p95: percentile(added, 95),
    p99: percentile(added, 99),
    monthlyUsd: monthly,
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
}
