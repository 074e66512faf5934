// What a retry may get, and for how long, through the real handlers and the embedded store with
// a clock the test moves: the same request within the retry window gets the first call's answer;
// after it, or once anything changed, it is decided anew. Join links stay single-use.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../lib/config.ts';
import { createDeps } from '../../lib/deps.ts';
import { RETRY_WINDOW_SECONDS } from '../../lib/history.ts';
import { ROUTES, type RouteDefinition } from '../../lib/routes.ts';
import { BASE_ENV, importFactory, json, lambdaContext, testDepsOptions, withOwnTable, type Handler } from '../helpers/handlers.ts';
import { decodeJwt } from '../helpers/jwt.ts';

let now = Math.floor(Date.now() / 1000);
let handle: (route: RouteDefinition, body: unknown, extra?: Record<string, unknown>) => Promise<{ status: number; body: any }>;
let requests = 0;

beforeAll(async () => {
  const env = withOwnTable({ ...BASE_ENV });
  const deps = createDeps(loadSettings(env), { ...(await testDepsOptions(env)), clock: { nowSeconds: () => now } });
  const handlers = new Map<string, Handler>();
  handle = async (route, body, extra = {}) => {
    if (!handlers.has(route.name)) handlers.set(route.name, (await importFactory(route))(deps as never) as unknown as Handler);
    const event = {
      headers: { 'content-type': 'application/json' },
      requestContext: { requestId: `retry-window-${++requests}`, http: { method: route.method } },
      body: body === undefined ? undefined : JSON.stringify(body),
      isBase64Encoded: false,
      ...extra,
    } as never;
    const result = await handlers.get(route.name)!(event, lambdaContext());
    return { status: result.statusCode ?? 0, body: json(result) };
  };
});

const book = async (appointmentId: string, minutesAhead = 5) =>
  handle(ROUTES.createRoom, {
    appointmentId,
    therapistId: 'dr-w',
    clientId: 'cl-w',
    scheduledStartTime: new Date((now + minutesAhead * 60) * 1000).toISOString(),
    durationMinutes: 50,
  });
const asTherapist = (appointmentId: string) => ({ pathParameters: { appointmentId }, queryStringParameters: { userId: 'dr-w' } });

describe('join links stay single-use across retries', () => {
  it('asking for a link again gives the same unused link, and a new one once it was used; a used link never works again', async () => {
    await book('window-links');
    const first = await handle(ROUTES.createJoinLink, undefined, asTherapist('window-links'));
    const again = await handle(ROUTES.createJoinLink, undefined, asTherapist('window-links'));
    expect(again.body.code).toBe(first.body.code);
    expect((await handle(ROUTES.exchangeJoinLink, { code: first.body.code, userName: 'Client' })).status).toBe(200);
    const afterUse = await handle(ROUTES.createJoinLink, undefined, asTherapist('window-links'));
    expect(afterUse.status).toBe(201);
    expect(afterUse.body.code).not.toBe(first.body.code);
    // The used code is still used: for anyone else, and for the same request once the window has passed.
    expect((await handle(ROUTES.exchangeJoinLink, { code: first.body.code, userName: 'Eve' })).status).toBe(404);
    now += RETRY_WINDOW_SECONDS + 1;
    expect((await handle(ROUTES.exchangeJoinLink, { code: first.body.code, userName: 'Client' })).status).toBe(404);
  });

  it('answers the same exchange again within the window with the same token, and never after', async () => {
    await book('window-exchange');
    const { code } = (await handle(ROUTES.createJoinLink, undefined, asTherapist('window-exchange'))).body;
    const first = await handle(ROUTES.exchangeJoinLink, { code, userName: 'Client' });
    now += RETRY_WINDOW_SECONDS - 10;
    const retried = await handle(ROUTES.exchangeJoinLink, { code, userName: 'Client' });
    expect(retried.body.token).toBe(first.body.token);
    now += 20;
    expect((await handle(ROUTES.exchangeJoinLink, { code, userName: 'Client' })).status).toBe(404);
  });
});

describe('refresh keeps the lifetime granted', () => {
  it('keeps an expiresIn asked for before the window opened: counted from the opening, never the whole window', async () => {
    await book('window-refresh', 6 * 60);
    const early = await handle(ROUTES.generateToken, { appointmentId: 'window-refresh', userId: 'cl-w', userName: 'Client', expiresIn: 600 });
    expect(early.status).toBe(200);
    const claims = decodeJwt(early.body.token).payload;
    expect(claims.exp - (claims.nbf + 30)).toBe(600);
    now = claims.nbf + 60;
    const refreshed = await handle(ROUTES.refreshToken, { token: early.body.token });
    expect(refreshed.status).toBe(200);
    const renewed = decodeJwt(refreshed.body.token).payload;
    expect(renewed.exp - renewed.iat).toBe(600);
  });
});
