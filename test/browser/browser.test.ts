// In a real browser: CORS from another origin (with a preflight), and the developer console.
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../infra/local/server.ts';
import { chromiumMissing, launchChromium, NON_LOOPBACK_HOST } from '../helpers/browser.ts';
import { startServer } from '../helpers/local-server.ts';
import { startOidcIssuer, type OidcIssuer } from '../helpers/oidc-issuer.ts';

/** A page server on its own port: the front end's stand-in, on a loopback origin or (host) on a non-loopback one. */
async function startPageServer(host = '127.0.0.1'): Promise<{ origin: string; server: Server }> {
  const server = createServer((_, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end('<!doctype html><title>front end</title><p>front end</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://${host}:${(server.address() as AddressInfo).port}`, server };
}

describe.skipIf(chromiumMissing)('in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  }, 60_000);
  afterAll(() => browser?.close());

  describe('CORS from another origin', () => {
    let allowed: Awaited<ReturnType<typeof startPageServer>>;
    let disallowed: Awaited<ReturnType<typeof startPageServer>>;
    let issuer: OidcIssuer;
    let api: RunningServer;
    let callerToken: string;

    beforeAll(async () => {
      allowed = await startPageServer();
      // Loopback origins are allowed locally with no setting: the disallowed page has a non-loopback origin.
      disallowed = await startPageServer(NON_LOOPBACK_HOST);
      issuer = await startOidcIssuer();
      const { createAuthenticator } = await import('../../infra/local/auth.ts');
      api = await startServer(
        { AUTH_MODE: 'jwt', CORS_ORIGINS: allowed.origin, MODERATOR_CLAIM: 'roles', MODERATOR_VALUES: 'therapist' },
        createAuthenticator({ authIssuer: issuer.issuer, authAudience: 'test-client' }),
      );
      callerToken = await issuer.sign({ sub: 'therapist-1', name: 'Browser Therapist', roles: ['therapist'] });
    });
    afterAll(async () => {
      await api?.close();
      await issuer?.close();
      allowed?.server.close();
      disallowed?.server.close();
    });

    /** fetch() from a page on `origin`, with JSON and an Authorization header (so the browser preflights). */
    async function fetchFrom(origin: string, body: unknown, withAuthorization = true) {
      const page = await browser.newPage();
      await page.goto(origin);
      const result = await page.evaluate(
        async ({ url, body, authorization }) => {
          try {
            const headers: Record<string, string> = { 'content-type': 'application/json' };
            if (authorization) headers.authorization = authorization;
            const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
            return {
              status: response.status,
              contentType: response.headers.get('content-type'),
              retryAfter: response.headers.get('retry-after'),
              requestId: response.headers.get('x-request-id'),
              body: await response.json(),
            };
          } catch (error) {
            return { blocked: String(error) };
          }
        },
        { url: `${api.url}/api/jitsi/generate-token`, body, authorization: withAuthorization ? `Bearer ${callerToken}` : undefined },
      );
      await page.close();
      return result as { status?: number; contentType?: string; requestId?: string; body?: any; blocked?: string };
    }

    it('gives an allowed origin its token', async () => {
      const result = await fetchFrom(allowed.origin, { roomName: 'room-1', isModerator: true });
      expect(result.status).toBe(200);
      expect(result.body.token).toMatch(/^eyJ/);
      expect(result.requestId).toBeTruthy();
    });

    it('lets the page read problem+json bodies of 4xx answers', async () => {
      const invalid = await fetchFrom(allowed.origin, { roomName: 'Not A Room' });
      expect(invalid).toMatchObject({ status: 400, contentType: 'application/problem+json', body: { field: 'roomName' } });
      const unauthenticated = await fetchFrom(allowed.origin, { roomName: 'room-1' }, false);
      expect(unauthenticated).toMatchObject({
        status: 401,
        contentType: 'application/problem+json',
        body: { type: 'urn:jitsi-token-api:problem:unauthenticated' },
      });
    });

    it('is blocked by the browser for a disallowed origin', async () => {
      const result = await fetchFrom(disallowed.origin, { roomName: 'room-1' });
      expect(result.blocked).toMatch(/Failed to fetch/);
    });
  });

  describe('developer console', () => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await startServer();
    });
    afterAll(() => server?.close());

    it('mints a token, shows its header, claims, lifetime, verdict and join link, and keeps a screenshot', async () => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      await page.goto(`${server.url}/`);
      await page.click('#send');
      await page.waitForSelector('#status.ok');
      await expect.poll(() => page.textContent('#verdict')).toContain('would let the holder in');
      expect(await page.textContent('#status')).toBe('HTTP 200');
      expect(JSON.parse((await page.textContent('#header'))!)).toEqual({ alg: 'HS256', typ: 'JWT' });
      expect(JSON.parse((await page.textContent('#claims'))!)).toMatchObject({ room: 'test-room-123', moderator: true });
      expect(await page.textContent('#lifetime')).toMatch(/^Remaining lifetime: (59m|1h)/);
      expect(await page.getAttribute('#join', 'href')).toMatch(/^https:\/\/meet\.example\.test\/test-room-123\?jwt=eyJ/);
      mkdirSync('test-artifacts', { recursive: true });
      await page.screenshot({ path: 'test-artifacts/console.png', fullPage: true });

      await page.fill('#room', 'another-room');
      await page.click('#inspect');
      await expect.poll(() => page.textContent('#verdict')).toContain('room_mismatch');

      await page.selectOption('#endpoint', 'create-room');
      await page.click('#send');
      await expect.poll(() => page.textContent('#claims')).toContain('appt-');
      expect(await page.textContent('#status')).toBe('HTTP 200');
      expect(errors).toEqual([]);
      await page.close();
    });
  });
});
