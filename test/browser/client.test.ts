// The typed client in Chromium: a page from another loopback port loads the built client and
// uses it against the local server with no settings (loopback origins are allowed there): an
// ad-hoc token, create-room, the client's own appointment token with its notBefore, a refresh, a
// join-link exchange, and a 403 read as a typed error. The same page from a non-loopback origin
// is refused by the browser (CORS).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../infra/local/server.ts';
import { chromiumMissing, launchChromium, NON_LOOPBACK_HOST } from '../helpers/browser.ts';
import { startServer } from '../helpers/local-server.ts';

describe.skipIf(chromiumMissing)('the typed client in Chromium', () => {
  let browser: Browser;
  let api: RunningServer;
  let pages: Server;
  let port: number;

  beforeAll(async () => {
    const bundle = await build({ entryPoints: ['client/src/index.ts'], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false });
    const code = bundle.outputFiles[0]!.text;
    pages = createServer((request, response) => {
      if (request.url === '/client.js') {
        response.writeHead(200, { 'content-type': 'text/javascript' });
        return response.end(code);
      }
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<!doctype html><title>front end</title><p>front end</p>');
    });
    await new Promise<void>((done) => pages.listen(0, '127.0.0.1', done));
    port = (pages.address() as AddressInfo).port;
    api = await startServer();
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    pages?.close();
  });

  async function runInPage(origin: string, apiUrl: string) {
    const page = await browser.newPage();
    await page.goto(origin);
    // The page loads the built client as a module, as a front end would.
    await page.addScriptTag({ type: 'module', content: "import * as client from '/client.js'; window.jitsiClient = client;" });
    await page.waitForFunction(() => 'jitsiClient' in window);
    const result = await page.evaluate(async (baseUrl) => {
      const { createJitsiClient, JitsiApiError } = (window as unknown as { jitsiClient: typeof import('../../client/src/index.ts') }).jitsiClient;
      const client = createJitsiClient({ baseUrl });
      const steps: Record<string, unknown> = {};
      try {
        steps.adhoc = (await client.generateToken({ roomName: 'Browser-Room', userName: 'Client Example' })).roomName;
        const start = new Date(Date.now() + 3 * 86_400_000).toISOString();
        const room = await client.createRoom({ appointmentId: 'browser-1', therapistId: 'th-b', clientId: 'cl-b', scheduledStartTime: start });
        steps.room = room.roomName;
        const mine = await client.generateToken({ appointmentId: 'browser-1', userId: 'cl-b', userName: 'Client Example' });
        steps.notBefore = mine.notBefore;
        const soon = await client.createRoom({
          appointmentId: 'browser-2',
          therapistId: 'th-b',
          clientId: 'cl-b',
          scheduledStartTime: new Date(Date.now() + 300_000).toISOString(),
        });
        steps.refreshed = (await client.refreshToken(soon.clientToken)).roomName === soon.roomName;
        const link = await client.createJoinLink('browser-2', 'th-b');
        steps.jitsiUrl = (await client.exchangeJoinLink(link.code, 'Client Example')).jitsiUrl;
        try {
          await client.getAppointment('browser-2', 'stranger');
        } catch (error) {
          steps.refusal = { typed: error instanceof JitsiApiError, type: (error as { type: string }).type, status: (error as { status: number }).status };
        }
      } catch (error) {
        steps.failed = String(error);
      }
      return steps;
    }, apiUrl);
    await page.close();
    return result;
  }

  it('works from a loopback origin with no settings, and reads a 403 as a typed error', async () => {
    const steps = await runInPage(`http://127.0.0.1:${port}/`, api.url);
    expect(steps.failed).toBeUndefined();
    expect(steps.adhoc).toBe('browser-room');
    expect(steps.room).toMatch(/^appt-/);
    expect(Date.parse(String(steps.notBefore))).toBeGreaterThan(Date.now() + 2 * 86_400_000);
    expect(steps.refreshed).toBe(true);
    expect(String(steps.jitsiUrl)).toMatch(/^https:\/\/[^?]+#jwt=eyJ/);
    expect(steps.refusal).toEqual({ typed: true, type: 'forbidden', status: 403 });
  });

  it('is refused by the browser from a non-loopback origin', async () => {
    const steps = await runInPage(`http://${NON_LOOPBACK_HOST}:${port}/`, api.url);
    expect(String(steps.failed)).toMatch(/Failed to fetch|TypeError/);
    expect(steps.adhoc).toBeUndefined();
  });
});
