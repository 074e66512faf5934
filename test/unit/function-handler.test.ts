// A deployed function runs several routes: it hands each API Gateway event to the route its
// routeKey names, answers a keep-warm ping without work, and refuses any other route key. Real
// handlers, real dependencies (the embedded store), real events.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createCallerApiHandler } from '../../functions/lambda/caller-api.ts';
import { createPublicKeysHandler } from '../../functions/lambda/public-keys.ts';
import { createReservationsApiHandler } from '../../functions/lambda/reservations-api.ts';
import { createGenerateTokenHandler } from '../../functions/generate-token.ts';
import { loadSettings } from '../../lib/config.ts';
import { createDeps } from '../../lib/deps.ts';
import { createFunctionHandler } from '../../lib/http/function-handler.ts';
import { createLogger } from '../../lib/log.ts';
import { FUNCTIONS, KEEP_WARM_PING, ROUTES, routeKeyOf } from '../../lib/routes.ts';
import { apiEvent, BASE_ENV, json, lambdaContext, testDepsOptions, withOwnTable } from '../helpers/handlers.ts';

async function depsWithLog() {
  const env = withOwnTable({ ...BASE_ENV });
  const lines: Record<string, unknown>[] = [];
  const deps = createDeps(loadSettings(env), { ...(await testDepsOptions(env)), logger: createLogger((line) => lines.push(JSON.parse(line))) });
  return { deps, lines };
}

const routeEvent = (route: (typeof ROUTES)[keyof typeof ROUTES], body: unknown) => ({ ...apiEvent(route.path, body), routeKey: routeKeyOf(route) });

describe('a function with several routes', () => {
  it('hands each event to the route its routeKey names', async () => {
    const { deps } = await depsWithLog();
    const callerApi = createCallerApiHandler(deps);
    const token = await callerApi(routeEvent(ROUTES.generateToken, { roomName: 'dispatch-room', userName: 'Ada' }), lambdaContext());
    expect(token).toMatchObject({ statusCode: 200 });
    const { token: minted } = json(token as never);
    const verdict = await callerApi(routeEvent(ROUTES.validateToken, { token: minted, roomName: 'dispatch-room' }), lambdaContext());
    expect(json(verdict as never)).toMatchObject({ valid: true });
    // The same body sent under validate-token's key is validate-token's business, not generate-token's.
    const misrouted = await callerApi(routeEvent(ROUTES.validateToken, { roomName: 'dispatch-room', userName: 'Ada' }), lambdaContext());
    expect(misrouted).toMatchObject({ statusCode: 400 });
  });

  it('answers a keep-warm ping with no log line, loading the store client only where a route uses the store', async () => {
    const { deps, lines } = await depsWithLog();
    // The real store, counted: which functions warm it up.
    const warmed: string[] = [];
    let calling = '';
    const warmUp = () => {
      warmed.push(calling);
      return deps.store.warmUp();
    };
    const counted = { ...deps, store: { ...deps.store, warmUp } };
    const before = lines.length;
    for (const [name, factory] of [
      [FUNCTIONS.callerApi.name, createCallerApiHandler],
      [FUNCTIONS.reservationsApi.name, createReservationsApiHandler],
      [FUNCTIONS.publicKeys.name, createPublicKeysHandler],
    ] as const) {
      calling = name;
      expect(await factory(counted)(KEEP_WARM_PING as never, lambdaContext())).toEqual({ warm: true });
    }
    expect(warmed).toEqual([FUNCTIONS.callerApi.name, FUNCTIONS.reservationsApi.name, FUNCTIONS.publicKeys.name]);
    expect(lines.slice(before)).toEqual([]);
  });

  it('refuses a route key it does not run with a problem (a misconfigured integration), logged like any request', async () => {
    const { deps, lines } = await depsWithLog();
    const reservations = createReservationsApiHandler(deps);
    const result = await reservations(routeEvent(ROUTES.generateToken, { roomName: 'r' }), lambdaContext());
    expect(result).toMatchObject({ statusCode: 404, headers: { 'content-type': 'application/problem+json' } });
    expect(json(result as never)).toMatchObject({ type: 'urn:jitsi-token-api:problem:not-found' });
    expect(lines.some((line) => line.route === FUNCTIONS.reservationsApi.name && line.status === 404)).toBe(true);
  });

  it("refuses to build a function whose handlers are not exactly its rows' routes", () => {
    expect(() => createFunctionHandler(FUNCTIONS.publicKeys, {})).toThrow(
      /functions\/lambda\/public-keys.ts must have a handler for each of public-keys's routes \(jitsi-keys\)/,
    );
    expect(() =>
      createFunctionHandler(FUNCTIONS.publicKeys, {
        [ROUTES.jitsiKeys.name]: createGenerateTokenHandler,
        [ROUTES.generateToken.name]: createGenerateTokenHandler,
      }),
    ).toThrow(/has generate-token, jitsi-keys/);
  });

  it('serves the RS256 public keys the signing function published, from a function that never reads the private key', async () => {
    const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    const env = {
      ...BASE_ENV,
      JITSI_SIGNING: 'rs256',
      JITSI_APP_SECRET: JSON.stringify({ kid: 'keys-2026', privateKey }),
      APPOINTMENTS_TABLE: `keys-${process.pid}`,
    };
    const storeOptions = await testDepsOptions(env);
    // The public-keys function's dependencies, as its entry builds them: the secret is never fetched.
    let fetched = 0;
    const keys = createDeps(loadSettings(env), {
      ...storeOptions,
      readsAppSecret: false,
      secretFetcher: async () => {
        fetched++;
        return { value: env.JITSI_APP_SECRET };
      },
    });
    const keyFile = `${createHash('sha256').update('keys-2026').digest('hex')}.pem`;
    const keysEvent = {
      ...apiEvent(`/api/jitsi/keys/${keyFile}`, undefined, { method: 'GET' }),
      routeKey: routeKeyOf(ROUTES.jitsiKeys),
      pathParameters: { keyFile },
    };
    const signer = createDeps(loadSettings(env), storeOptions);
    await signer.keyring.current();
    const answer = await createPublicKeysHandler(keys)(keysEvent, {} as Context);
    expect(answer).toMatchObject({ statusCode: 200, headers: { 'content-type': 'application/x-pem-file' } });
    expect((answer as { body: string }).body).toBe(createPublicKey(createPrivateKey(privateKey)).export({ type: 'spki', format: 'pem' }));
    expect(fetched).toBe(0);
    await expect(keys.keyring.current()).rejects.toMatchObject({ dependency: 'secret' });
  });

  it('builds a function without the store when none of its routes uses it; any store call then fails loudly', async () => {
    const deps = createDeps(loadSettings({ ...BASE_ENV }));
    await expect(deps.store.appointments.recent('appt-1')).rejects.toThrow(/this function has no appointment store \(store.appointments.recent called\)/);
    // Its routes answer all the same (HS256 here: no public keys, 404).
    const keysEvent = {
      ...apiEvent('/api/jitsi/keys/ab.pem', undefined, { method: 'GET' }),
      routeKey: routeKeyOf(ROUTES.jitsiKeys),
      pathParameters: { keyFile: 'ab.pem' },
    };
    expect(await createPublicKeysHandler(deps)(keysEvent, {} as Context)).toMatchObject({ statusCode: 404 });
  });
});
