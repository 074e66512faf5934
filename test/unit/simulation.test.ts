// The clinic simulation's Lambda model behaves as Lambda does in the cases that decide the
// comparison, and a run is the same for the same seed.
import { describe, expect, it } from 'vitest';
import { clinicWeek, Fleet, onTheHourBurst, percentile, seededRandom, type FunctionModel } from '../../scripts/simulation/model.ts';
import { functionInLayout, simulate, simulateBurst } from '../../scripts/simulate.ts';
import { functionsDeployedWith, routesDeployedWith } from '../../lib/routes.ts';

const fn: FunctionModel = { coldInitMs: 100, durationMs: () => ({ first: 30, warm: 20 }), provisioned: 0 };
const fleet = (provisioned = 0, idleMs = 600_000) =>
  new Fleet({ f: { ...fn, provisioned } }, { runtimeStartMs: 150, idleLifetime: () => idleMs }, seededRandom(1));
const call = (at: number) => ({ at, route: 'r', userFacing: true });

describe('the Lambda model', () => {
  it('answers a single request on an idle system with a cold start', () => {
    // The runtime's start, our init, then the first request at the function's CPU share.
    expect(fleet().invoke('f', call(0))).toMatchObject({ cold: true, answerMs: 280, addedMs: 260 });
  });

  it('lets two requests a second apart share one environment', () => {
    const lambda = fleet();
    expect(lambda.invoke('f', call(0)).cold).toBe(true);
    expect(lambda.invoke('f', call(1_000))).toMatchObject({ cold: false, addedMs: 0, answerMs: 20 });
  });

  it('starts a new environment for a concurrent request, and reclaims idle ones after their idle time', () => {
    const lambda = fleet(0, 60_000);
    expect(lambda.invoke('f', call(0)).cold).toBe(true);
    expect(lambda.invoke('f', call(100)).cold).toBe(true); // the first is still busy
    expect(lambda.invoke('f', call(1_000)).cold).toBe(false);
    expect(lambda.invoke('f', call(1_000 + 5 * 60_000)).cold).toBe(true); // idle past its lifetime
  });

  it('keeps a provisioned environment warm however long it idles', () => {
    const lambda = fleet(1, 60_000);
    expect(lambda.invoke('f', call(3_600_000)).cold).toBe(false);
  });

  it('takes percentiles by nearest rank', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([0, 0, 0, 100], 99)).toBe(100);
    expect(percentile([], 50)).toBe(0);
  });
});

describe('the clinic', () => {
  it('books each session once, joins both parties, and asks Prosody once per session', () => {
    const week = clinicWeek(
      { therapists: 2, sessionsPerTherapistPerDay: 3, sessionMinutes: 50, joinLinkShare: 0, refreshChance: 0, validateChance: 0 },
      seededRandom(7),
    );
    const count = (route: string) => week.filter((invocation) => invocation.route === route).length;
    expect(count('create-room')).toBe(2 * 3 * 5);
    expect(count('generate-token')).toBe(2 * 2 * 3 * 5);
    expect(count('reservation-create')).toBe(30);
    expect([...week].sort((a, b) => a.at - b.at)).toEqual(week);
  });

  it('puts the burst on the hour: every therapist and client joins within two minutes of 09:00, Prosody asked once per session', () => {
    const burst = onTheHourBurst(
      { therapists: 10, sessionsPerTherapistPerDay: 6, sessionMinutes: 50, joinLinkShare: 0, refreshChance: 0, validateChance: 0 },
      seededRandom(3),
    );
    const nine = 9 * 3_600_000;
    expect(burst.filter((call) => call.route === 'generate-token')).toHaveLength(20);
    expect(burst.filter((call) => call.route === 'reservation-create')).toHaveLength(10);
    for (const call of burst) expect(Math.abs(call.at - nine)).toBeLessThanOrEqual(2 * 60_000 + 1_000);
  });

  it('meets more cold starts in the burst without the keep-warm ping, and answers faster with more memory', () => {
    const cold = simulateBurst(5, 1024, 'none');
    expect(cold.coldShare).toBeGreaterThan(simulateBurst(5, 1024, 'keep-warm').coldShare);
    expect(simulateBurst(50, 256, 'none').p95).toBeGreaterThan(simulateBurst(50, 1024, 'none').p95);
  });

  it('gives the same table for the same seed, and another for another seed', () => {
    expect(simulate(5, 15, 'grouped', 'none', 42)).toEqual(simulate(5, 15, 'grouped', 'none', 42));
    expect(simulate(5, 15, 'grouped', 'none', 42)).not.toEqual(simulate(5, 15, 'grouped', 'none', 43));
  });
});

describe('the layouts', () => {
  it("models the grouped layout as the stack deploys it: the route table's functions", () => {
    const routes = routesDeployedWith('hs256');
    expect(new Set(routes.map((route) => functionInLayout(route, 'grouped')))).toEqual(new Set(functionsDeployedWith('hs256').map((fn) => fn.name)));
    expect(new Set(routes.map((route) => functionInLayout(route, 'per route'))).size).toBe(routes.length);
  });
});
