// Webhook delivery against a real receiver on loopback, checked with the Standard Webhooks
// reference library (standardwebhooks) on the raw bytes the receiver got.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../lib/log.ts';
import { createWebhookDeliverer, newWebhookSecret, type PlatformEvent, signWebhook, webhookBody } from '../../lib/webhooks.ts';

interface Received {
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** performance.now() when the body had arrived. */
  at: number;
}

/** Answers each POST with `answer(attempt number, response)`, keeping the headers and raw body it received. */
async function startReceiver(answer: (attempt: number, response: ServerResponse) => void) {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks), at: performance.now() });
      answer(received.length, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${port}/hooks/platform`, received };
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

const status = (code: number) => (_attempt: number, response: ServerResponse) => response.writeHead(code).end();

function deliverer(url: string, secret: string, options: { attempts?: number; timeoutMs?: number; backoffMs?: number } = {}) {
  const lines: string[] = [];
  const logger = createLogger((line) => lines.push(line));
  return { lines, ...createWebhookDeliverer({ url, secret, logger, backoffMs: 5, timeoutMs: 2_000, ...options }) };
}

const logRecords = (lines: string[]) => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

const event = (id: string, type = 'appointment.created'): PlatformEvent => ({
  id,
  type,
  time: '2031-05-04T09:30:00.000Z',
  // Not ASCII on purpose: the signature covers the UTF-8 bytes on the wire.
  data: { appointmentRef: 'apt_7f3c', window: { start: '2031-05-04T10:00:00Z', end: '2031-05-04T10:50:00Z' }, note: 'Zürich ✓ 東京' },
});

const headersOf = (request: Received) => ({
  'webhook-id': String(request.headers['webhook-id']),
  'webhook-timestamp': String(request.headers['webhook-timestamp']),
  'webhook-signature': String(request.headers['webhook-signature']),
});

describe('signWebhook', () => {
  it('matches an HMAC-SHA256 computed here over "<id>.<timestamp>.<body>" with the decoded key', () => {
    const key = Buffer.from('a fixed 32 byte key for the test', 'utf8');
    const secret = `whsec_${key.toString('base64')}`;
    const body = '{"type":"token.issued","timestamp":"2031-05-04T09:30:00.000Z","data":{"n":1}}';
    const expected = `v1,${createHmac('sha256', key).update(`evt_01.1967362200.${body}`).digest('base64')}`;
    expect(signWebhook(secret, 'evt_01', 1_967_362_200, body)).toBe(expected);
  });

  it("gives the Standard Webhooks specification's published example signature", () => {
    expect(signWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')).toBe(
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    );
  });

  it.each([
    ['no prefix', Buffer.alloc(24, 1).toString('base64')],
    ['wrong prefix', `whsk_${Buffer.alloc(24, 1).toString('base64')}`],
    ['empty', 'whsec_'],
    ['too short (15 bytes)', `whsec_${Buffer.alloc(15, 1).toString('base64')}`],
    ['not base64', 'whsec_this-is-not-base64-at-all!!'],
    ['base64url instead of base64', `whsec_${Buffer.alloc(24, 0xfb).toString('base64url')}`],
    ['missing padding', `whsec_${Buffer.alloc(17, 1).toString('base64').replace(/=+$/, '')}`],
  ])('refuses a secret that is %s, without quoting it', (_case, secret) => {
    expect(() => signWebhook(secret, 'evt_01', 1, '{}')).toThrow(/^webhook secret must be "whsec_" followed by standard base64 of at least 16 bytes$/);
    expect(() => createWebhookDeliverer({ url: 'http://127.0.0.1:9/', secret, logger: createLogger(() => {}) })).toThrow(TypeError);
  });

  it('accepts a 16-byte key, and makes new secrets of 24 random bytes that it accepts', () => {
    expect(signWebhook(`whsec_${Buffer.alloc(16, 7).toString('base64')}`, 'evt_01', 1, '{}')).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    const [first, second] = [newWebhookSecret(), newWebhookSecret()];
    expect(first).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(first.slice(6), 'base64')).toHaveLength(24);
    expect(first).not.toBe(second);
    expect(() => new Webhook(first)).not.toThrow();
  });
});

describe('webhookBody', () => {
  it('is { type, timestamp, data } of the event', () => {
    const sent = event('evt_body');
    expect(JSON.parse(webhookBody(sent))).toEqual({ type: sent.type, timestamp: sent.time, data: sent.data });
  });
});

describe('webhook delivery', () => {
  it('sends what the Standard Webhooks library verifies: raw body bytes, the event id as webhook-id, a current timestamp', async () => {
    const receiver = await startReceiver(status(204));
    const secret = newWebhookSecret();
    const { deliver, lines } = deliverer(receiver.url, secret);
    const events = [event('evt_a1', 'appointment.created'), event('evt_a2', 'token.issued'), event('evt_a3', 'session.completed')];

    expect(await deliver(events)).toEqual({ delivered: 3, failed: 0 });

    expect(receiver.received.map((request) => request.headers['webhook-id'])).toEqual(['evt_a1', 'evt_a2', 'evt_a3']);
    for (const [index, request] of receiver.received.entries()) {
      expect(request.headers['content-type']).toBe('application/json');
      expect(Math.abs(Number(request.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(5);
      // verify() checks the signature and the timestamp's age, then parses the body.
      const verified = new Webhook(secret).verify(request.body, headersOf(request));
      expect(verified).toEqual({ type: events[index]!.type, timestamp: events[index]!.time, data: events[index]!.data });
      expect(request.body.toString('utf8')).toBe(webhookBody(events[index]!));
    }
    expect(logRecords(lines)).toEqual(
      events.map((sent) =>
        expect.objectContaining({ level: 'info', message: 'webhook-delivered', eventId: sent.id, eventType: sent.type, status: 204, attempts: 1 }),
      ),
    );
  });

  it('is rejected by a receiver holding another secret, and by one that checks an altered body', async () => {
    const receiver = await startReceiver(status(200));
    const secret = newWebhookSecret();
    await deliverer(receiver.url, secret).deliver([event('evt_wrong')]);
    const [request] = receiver.received;

    expect(() => new Webhook(newWebhookSecret()).verify(request!.body, headersOf(request!))).toThrow('No matching signature found');
    const altered = Buffer.from(request!.body.toString('utf8').replace('apt_7f3c', 'apt_7f3d'));
    expect(() => new Webhook(secret).verify(altered, headersOf(request!))).toThrow('No matching signature found');
    expect(new Webhook(secret).verify(request!.body, headersOf(request!))).toBeTruthy();
  });

  it('retries a 500, then delivers on the next attempt with the same id and body, signed again', async () => {
    const receiver = await startReceiver((attempt, response) => response.writeHead(attempt === 1 ? 500 : 200).end('ok'));
    const secret = newWebhookSecret();
    const { deliver, lines } = deliverer(receiver.url, secret);

    expect(await deliver([event('evt_retry')])).toEqual({ delivered: 1, failed: 0 });

    expect(receiver.received).toHaveLength(2);
    const [first, second] = receiver.received;
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    expect(second!.body.equals(first!.body)).toBe(true);
    for (const request of receiver.received) expect(() => new Webhook(secret).verify(request.body, headersOf(request))).not.toThrow();
    expect(logRecords(lines)).toEqual([expect.objectContaining({ message: 'webhook-delivered', eventId: 'evt_retry', status: 200, attempts: 2 })]);
  });

  it.each([429, 408, 502])('retries a %i', async (code) => {
    const receiver = await startReceiver((attempt, response) => response.writeHead(attempt === 1 ? code : 200).end());
    expect(await deliverer(receiver.url, newWebhookSecret()).deliver([event('evt_status')])).toEqual({ delivered: 1, failed: 0 });
    expect(receiver.received).toHaveLength(2);
  });

  it.each([400, 401, 404, 410, 301])('does not retry a %i (the receiver refused it), and goes on with the next event', async (code) => {
    const receiver = await startReceiver((attempt, response) => response.writeHead(attempt === 1 ? code : 200, { location: 'http://127.0.0.1:9/' }).end());
    const { deliver, lines } = deliverer(receiver.url, newWebhookSecret());

    expect(await deliver([event('evt_refused'), event('evt_next')])).toEqual({ delivered: 1, failed: 1 });

    expect(receiver.received.map((request) => request.headers['webhook-id'])).toEqual(['evt_refused', 'evt_next']);
    expect(logRecords(lines)).toEqual([
      expect.objectContaining({
        level: 'warn',
        message: 'webhook-failed',
        eventId: 'evt_refused',
        eventType: 'appointment.created',
        status: code,
        attempts: 1,
      }),
      expect.objectContaining({ message: 'webhook-delivered', eventId: 'evt_next', attempts: 1 }),
    ]);
  });

  it('gives up after `attempts` POSTs to a receiver that keeps answering 503, and reports it failed', async () => {
    const receiver = await startReceiver(status(503));
    const { deliver, lines } = deliverer(receiver.url, newWebhookSecret(), { attempts: 3 });

    expect(await deliver([event('evt_down')])).toEqual({ delivered: 0, failed: 1 });

    expect(receiver.received).toHaveLength(3);
    expect(logRecords(lines)).toEqual([
      expect.objectContaining({ message: 'webhook-failed', eventId: 'evt_down', status: 503, attempts: 3, reason: 'gave-up-status-503' }),
    ]);
  });

  it('waits backoffMs, then twice that, between attempts', async () => {
    const receiver = await startReceiver(status(503));
    await deliverer(receiver.url, newWebhookSecret(), { attempts: 3, backoffMs: 60 }).deliver([event('evt_backoff')]);

    const [first, second, third] = receiver.received.map((request) => request.at);
    expect(second! - first!).toBeGreaterThanOrEqual(60 - 5);
    expect(third! - second!).toBeGreaterThanOrEqual(120 - 5);
  });

  it('abandons a receiver that never answers after timeoutMs, each attempt', async () => {
    const receiver = await startReceiver(() => {});
    const { deliver, lines } = deliverer(receiver.url, newWebhookSecret(), { attempts: 2, timeoutMs: 150 });

    const started = performance.now();
    expect(await deliver([event('evt_hung')])).toEqual({ delivered: 0, failed: 1 });
    const elapsed = performance.now() - started;

    expect(receiver.received).toHaveLength(2);
    expect(elapsed).toBeGreaterThanOrEqual(2 * 150 - 20);
    expect(elapsed).toBeLessThan(2_000);
    expect(logRecords(lines)).toEqual([expect.objectContaining({ message: 'webhook-failed', eventId: 'evt_hung', attempts: 2, reason: 'gave-up-timeout' })]);
  });

  it('retries a connection error and reports the event failed, without throwing', async () => {
    const receiver = await startReceiver(status(200));
    await closers.splice(0)[0]!();
    const { deliver, lines } = deliverer(receiver.url, newWebhookSecret(), { attempts: 2 });

    expect(await deliver([event('evt_gone')])).toEqual({ delivered: 0, failed: 1 });
    expect(logRecords(lines)).toEqual([
      expect.objectContaining({ message: 'webhook-failed', eventId: 'evt_gone', attempts: 2, reason: 'gave-up-network-error' }),
    ]);
  });

  it('fails an event it cannot send (an id unfit for a header, data that is not JSON) without a POST, and sends the rest', async () => {
    const receiver = await startReceiver(status(200));
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const { deliver, lines } = deliverer(receiver.url, newWebhookSecret());

    const result = await deliver([{ ...event('evt_bad'), id: 'evt\r\nx-injected: 1' }, { ...event('evt_loop'), data: circular }, event('evt_fine')]);

    expect(result).toEqual({ delivered: 1, failed: 2 });
    expect(receiver.received.map((request) => request.headers['webhook-id'])).toEqual(['evt_fine']);
    expect(logRecords(lines).map((record) => [record.message, record.reason, record.attempts])).toEqual([
      ['webhook-failed', 'invalid-event', 0],
      ['webhook-failed', 'invalid-event', 0],
      ['webhook-delivered', undefined, 1],
    ]);
  });

  it('logs one line per event with ids, type, status and attempts, and never the secret, its key or the body', async () => {
    const receiver = await startReceiver((attempt, response) => response.writeHead(attempt % 2 === 1 ? 503 : 200).end());
    const secret = newWebhookSecret();
    const { deliver, lines } = deliverer(receiver.url, secret, { attempts: 2 });
    const events = [event('evt_l1'), event('evt_l2', 'participant.joined')];

    await deliver(events);

    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).not.toContain(secret.slice(6));
      expect(line).not.toContain('apt_7f3c');
      expect(line).not.toContain('webhook-signature');
      expect(line).not.toContain(String(receiver.received[0]!.headers['webhook-signature']).slice(3));
    }
    expect(Object.keys(logRecords(lines)[0]!).sort()).toEqual(['attempts', 'eventId', 'eventType', 'level', 'message', 'service', 'status', 'timestamp']);
  });

  it('uses the clock it is given for webhook-timestamp', async () => {
    const receiver = await startReceiver(status(200));
    const secret = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
    const lines: string[] = [];
    const { deliver } = createWebhookDeliverer({ url: receiver.url, secret, logger: createLogger((line) => lines.push(line)), now: () => 1_967_362_200.9 });

    await deliver([event('evt_clock')]);

    const [request] = receiver.received;
    expect(request!.headers['webhook-timestamp']).toBe('1967362200');
    expect(request!.headers['webhook-signature']).toBe(signWebhook(secret, 'evt_clock', 1_967_362_200, request!.body.toString('utf8')));
  });

  it('refuses options it cannot use', () => {
    const logger = createLogger(() => {});
    const secret = newWebhookSecret();
    expect(() => createWebhookDeliverer({ url: 'ftp://127.0.0.1/', secret, logger })).toThrow('webhook url must be an absolute http or https URL');
    expect(() => createWebhookDeliverer({ url: '/relative', secret, logger })).toThrow(TypeError);
    expect(() => createWebhookDeliverer({ url: 'http://127.0.0.1/', secret, logger, attempts: 0 })).toThrow(RangeError);
    expect(() => createWebhookDeliverer({ url: 'http://127.0.0.1/', secret, logger, timeoutMs: 0 })).toThrow(RangeError);
    expect(() => createWebhookDeliverer({ url: 'http://127.0.0.1/', secret, logger, backoffMs: -1 })).toThrow(RangeError);
  });
});
