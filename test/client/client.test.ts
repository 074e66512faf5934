// The typed client (client/), built and tested with the service: its types are the ones
// openapi-typescript makes from docs/openapi.json today; its calls run against the local server
// over real HTTP; its token keeper and join helper are driven with a clock and a timer the test
// holds; its bundle builds without warnings (its size goes to docs/PERFORMANCE.md).
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJitsiClient, JitsiApiError, joinFromLink, keepTokenFresh, type StopReason, type TokenAnswer } from '../../client/src/index.ts';
import type { RunningServer } from '../../infra/local/server.ts';
import { clientTypesText } from '../../scripts/docs.ts';
import { decodeJwt } from '../helpers/jwt.ts';
import { startServer } from '../helpers/local-server.ts';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});
const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

describe('the client package', () => {
  it('has the types openapi-typescript makes from docs/openapi.json (run `npm run docs` after changing a route)', async () => {
    expect(readFileSync('client/src/schema.ts', 'utf8')).toBe(await clientTypesText());
  });

  it('builds for browsers without warnings, with openapi-fetch its only dependency', async () => {
    const result = await build({
      entryPoints: ['client/src/index.ts'],
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      target: 'es2022',
      minify: true,
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    expect(result.warnings).toEqual([]);
    const packages = new Set(
      Object.keys(result.metafile.inputs)
        .filter((input) => input.includes('node_modules/'))
        .map((input) => input.split('node_modules/')[1]!.split('/')[0]),
    );
    expect([...packages]).toEqual(['openapi-fetch']);
    expect(JSON.parse(readFileSync('client/package.json', 'utf8')).dependencies).toEqual({ 'openapi-fetch': expect.any(String) });
    const code = result.outputFiles[0]!.contents;
    mkdirSync('test-artifacts/figures', { recursive: true });
    writeFileSync(
      'test-artifacts/figures/client-bundle.json',
      `${JSON.stringify({ minifiedBytes: code.length, gzipBytes: gzipSync(code).length }, null, 2)}\n`,
    );
  });

  it('makes the calls against the service: tokens, rooms, appointments, join links, and typed problems', async () => {
    const client = createJitsiClient({ baseUrl: server.url });
    const adhoc = await client.generateToken({ roomName: 'Team-Standup', userName: 'Client Example' });
    expect(adhoc.roomName).toBe('team-standup');
    const room = await client.createRoom({ appointmentId: 'client-1', therapistId: 'th-c', clientId: 'cl-c', scheduledStartTime: inMinutes(5) });
    const mine = await client.generateToken({ appointmentId: 'client-1', userId: 'cl-c', userName: 'Client Example' });
    expect(mine.roomName).toBe(room.roomName);
    expect(Date.parse(mine.notBefore)).toBeLessThanOrEqual(Date.now());
    const refreshed = await client.refreshToken(mine.token);
    expect(decodeJwt(refreshed.token).payload.room).toBe(room.roomName);
    expect(await client.validateToken(refreshed.token)).toMatchObject({ valid: true });
    expect(await client.getAppointment('client-1', 'cl-c')).toMatchObject({ status: 'scheduled', role: 'client' });
    const link = await client.createJoinLink('client-1', 'th-c');
    const exchanged = await client.exchangeJoinLink(link.code, 'Client Example');
    expect(exchanged.jitsiUrl).toMatch(/#jwt=eyJ/);
    expect((await client.auditTrail('client-1', undefined, 'th-c')).records[0]).toMatchObject({ action: 'token-issued' });
    const refused = await client.getAppointment('client-1', 'stranger').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(JitsiApiError);
    expect(refused).toMatchObject({ type: 'forbidden', status: 403 });
    const invalid = await client.generateToken({ roomName: 'not a room', userName: 'x' }).catch((error: unknown) => error);
    expect(invalid).toMatchObject({ type: 'invalid-field', status: 400, field: 'roomName' });
  });

  it('sends the caller token from getAccessToken as Authorization: Bearer', async () => {
    const seen: string[] = [];
    const client = createJitsiClient({
      baseUrl: server.url,
      getAccessToken: async () => 'caller-token-123',
      fetch: async (request) => {
        seen.push((request as Request).headers.get('authorization') ?? '');
        return fetch(request as Request);
      },
    });
    await client.generateToken({ roomName: 'room-1', userName: 'Client Example' });
    expect(seen).toEqual(['Bearer caller-token-123']);
  });
});

describe('the token keeper', () => {
  /** A clock and a timer the test moves by hand. */
  function harness(answers: Array<TokenAnswer | JitsiApiError>) {
    const state = {
      now: Date.parse('2026-12-02T10:00:00Z'),
      timers: [] as Array<{ at: number; run: () => void }>,
      tokens: [] as TokenAnswer[],
      stopped: [] as StopReason[],
    };
    const client = {
      refreshToken: async () => {
        const next = answers.shift()!;
        if (next instanceof JitsiApiError) throw next;
        return next;
      },
    };
    const fire = async () => {
      const timer = state.timers.shift()!;
      state.now = timer.at;
      timer.run();
      await new Promise((done) => setTimeout(done, 0));
    };
    return { state, client, fire };
  }
  const answer = (token: string, expiresAt: string): TokenAnswer =>
    ({ token, roomName: 'appt-x', joinUrl: 'https://meet.example.com/appt-x', notBefore: '2026-12-02T09:59:30Z', expiresAt, moderator: false }) as TokenAnswer;

  it('refreshes before expiry, and stops at the window end when a refresh cannot extend the token', async () => {
    const { state, client, fire } = harness([answer('t2', '2026-12-02T11:00:00Z'), answer('t3', '2026-12-02T11:00:00Z')]);
    keepTokenFresh({
      client,
      token: 't1',
      expiresAt: '2026-12-02T10:30:00Z',
      onToken: (fresh) => state.tokens.push(fresh),
      onStop: (reason) => state.stopped.push(reason),
      now: () => state.now,
      setTimer: (run, ms) => state.timers.push({ at: state.now + ms, run }),
    });
    expect(new Date(state.timers[0]!.at).toISOString()).toBe('2026-12-02T10:28:00.000Z');
    await fire();
    expect(state.tokens.map((token) => token.token)).toEqual(['t2']);
    await fire();
    expect(state.stopped).toEqual(['window-ended']);
  });

  it('stops on a cancel or a move and says which; tries a 503 again', async () => {
    for (const [type, reason] of [
      ['appointment-cancelled', 'appointment-cancelled'],
      ['appointment-moved', 'appointment-moved'],
    ] as const) {
      const unavailable = new JitsiApiError('store-unavailable', 503, 'unavailable', undefined, undefined, 'r');
      const refusal = new JitsiApiError(type, 409, 'refused', 'token', undefined, 'r');
      const { state, client, fire } = harness([unavailable, refusal]);
      keepTokenFresh({
        client,
        token: 't1',
        expiresAt: '2026-12-02T10:30:00Z',
        onToken: (fresh) => state.tokens.push(fresh),
        onStop: (stopReason) => state.stopped.push(stopReason),
        now: () => state.now,
        setTimer: (run, ms) => state.timers.push({ at: state.now + ms, run }),
      });
      await fire();
      expect(state.timers).toHaveLength(1);
      await fire();
      expect(state.stopped).toEqual([reason]);
    }
  });
});

describe('the join helper', () => {
  it('exchanges the #code= of the page, takes it out of the address, and answers a URL with the token in its fragment', async () => {
    const client = createJitsiClient({ baseUrl: server.url });
    await client.createRoom({ appointmentId: 'client-2', therapistId: 'th-c', clientId: 'cl-c', scheduledStartTime: inMinutes(5) });
    const { code } = await client.createJoinLink('client-2', 'th-c');
    const replaced: string[] = [];
    const joined = await joinFromLink(client, {
      location: { hash: `#code=${code}`, pathname: '/join', search: '' },
      history: { replaceState: (_state: unknown, _title: string, url?: string | URL | null) => void replaced.push(String(url)) },
      userName: 'Client Example',
    });
    expect(replaced).toEqual(['/join']);
    expect(new URL(joined.jitsiUrl).search).toBe('');
    expect(new URL(joined.jitsiUrl).hash).toBe(`#jwt=${joined.token}`);
    const missing = await joinFromLink(client, { location: { hash: '', pathname: '/join', search: '' }, history: { replaceState: () => {} } }).catch(
      (error: unknown) => error,
    );
    expect(missing).toMatchObject({ type: 'join-link-unavailable', field: 'code' });
  });
});
