// One Lambda function, several routes. API Gateway puts the route it matched in the event's
// `routeKey` ("POST /api/jitsi/generate-token"), so a function built from a row of FUNCTIONS
// hands each event to that route's handler. All its routes share one set of dependencies: one
// secret fetch, one store client, one warm environment.
import type { Context } from 'aws-lambda';
import type { Deps } from '../deps.ts';
import { NotFoundError } from '../errors.ts';
import { type KEEP_WARM_PING, routeKeyOf, routesOf, storeActionsOf, type FunctionDefinition, type RouteDefinition } from '../routes.ts';
import { createRefusalResponder } from './api-handler.ts';
import type { ApiEvent, ApiResult } from './types.ts';

type RouteHandler = (event: ApiEvent, context: Context) => Promise<ApiResult>;
export type KeepWarmPing = typeof KEEP_WARM_PING;

const isKeepWarmPing = (event: unknown): event is KeepWarmPing =>
  typeof event === 'object' && event !== null && !('routeKey' in event) && (event as KeepWarmPing)['jitsi-token-api'] === 'keep-warm';

/** A handler module's factory: its one `create…Handler` export (a route's module or a function's entry). */
export function handlerFactoryOf<F = (deps: Deps) => unknown>(module: Record<string, unknown>, entry: string): F {
  const factories = Object.entries(module).filter(([name, value]) => /^create\w+Handler$/.test(name) && typeof value === 'function');
  if (factories.length !== 1) throw new Error(`${entry} must export exactly one create…Handler(deps) function`);
  return factories[0]![1] as F;
}

/**
 * The factory of a function's handler, from its routes' handler factories keyed by route name.
 * It must have one for each route the table puts in the function and no other: a mismatch stops
 * the module from loading (and fails the tests), so a row and its function cannot drift apart.
 * `routes` is the table's unless given (the bench builds the layouts it compares from other sets).
 */
export function createFunctionHandler(
  fn: FunctionDefinition,
  factories: Readonly<Record<string, (deps: Deps) => unknown>>,
  routes: readonly RouteDefinition[] = routesOf(fn),
  /** Events that are not requests (the stack's rules): the job's answer, or undefined for an event that is not one. */
  jobs?: (deps: Deps, event: unknown) => Promise<unknown> | undefined,
) {
  const expected = routes.map((route) => route.name).sort();
  const given = Object.keys(factories).sort();
  if (expected.join() !== given.join())
    throw new Error(`${fn.entry} must have a handler for each of ${fn.name}'s routes (${expected.join(', ')}), has ${given.join(', ')}`);
  const usesStore = storeActionsOf(routes).length > 0;
  return (deps: Deps) => {
    const byRouteKey = new Map(routes.map((route) => [routeKeyOf(route), factories[route.name]!(deps) as RouteHandler]));
    const refuse = createRefusalResponder(deps, fn.name);
    // A ping loads what a first request would beyond the secret (fetched at start-up): the store's client.
    const warmUp = async (): Promise<{ warm: true }> => {
      if (usesStore) await deps.store.warmUp();
      return { warm: true };
    };
    // Not async: a request costs one map lookup on top of its route's handler.
    return (event: ApiEvent | KeepWarmPing, context: Context): Promise<ApiResult | { warm: true }> => {
      const handler = byRouteKey.get((event as ApiEvent).routeKey);
      if (handler !== undefined) return handler(event as ApiEvent, context);
      // A scheduled ping keeps the environment alive; it answers nobody and writes no log line.
      if (isKeepWarmPing(event)) return warmUp();
      const job = jobs?.(deps, event);
      if (job !== undefined) return job as Promise<ApiResult>;
      // Only a misconfigured integration sends a route this function does not run.
      return refuse(event as ApiEvent, new NotFoundError(`${fn.name} has no route ${(event as ApiEvent).routeKey}.`), context);
    };
  };
}
