// The local server over real HTTP on loopback: the routes, the envelope rules, CORS
// and the payload-format-2.0 adapter.
import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../infra/local/server.ts';
import { fromLambdaResult } from '../../infra/local/server.ts';
import { decodeJwt, jitsiRuleViolations } from '../helpers/jwt.ts';
import { post, startServer } from '../helpers/local-server.ts';

let server: RunningServer;
const url = (path: string) => `${server.url}${path}`;
const expected = { appId: 'test-app', audience: 'test-app', sub: 'meet.example.test', maxLifetime: 86_400 };

beforeAll(async () => {
  server = await startServer({ CORS_ORIGINS: 'http://localhost:5173,http://127.0.0.1:8080' });
});
afterAll(() => server.close());

function rawRequest(
  path: string,
  options: { method: string; headers?: Record<string, string>; body?: Buffer | string },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url(path), { method: options.method, headers: options.headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    request.on('error', reject);
    request.end(options.body);
  });
}

describe('local server: the token routes', () => {
  it('mints a seed-shaped token that meets every Jitsi rule', async () => {
    const response = await post(url('/api/jitsi/generate-token'), {
      roomName: 'test-room-123',
      userName: 'Test User',
      userEmail: 'test@example.com',
      isModerator: true,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.body).toMatchObject({ roomName: 'test-room-123', joinUrl: 'https://meet.example.test/test-room-123' });
    expect(Date.parse(response.body.expiresAt) / 1000).toBe(decodeJwt(response.body.token).payload.exp);
    expect(jitsiRuleViolations(response.body.token, expected)).toEqual([]);
    const user = decodeJwt(response.body.token).payload.context.user;
    expect(user).toMatchObject({ name: 'Test User', moderator: 'true', affiliation: 'owner' });
    // Every participant sees context.user: the email stays out unless TOKEN_EMAIL says otherwise.
    expect(user.email).toBeUndefined();
  });

  it('creates the same room for the same appointment, with a moderator and a participant token', async () => {
    const start = new Date(Date.now() + 3_600_000).toISOString();
    const body = {
      appointmentId: 'appt-456',
      therapistId: 'therapist-123',
      clientId: 'client-789',
      scheduledStartTime: start,
      callType: 'video',
      therapistName: 'Dr. Sarah Johnson',
      clientName: 'Alex',
    };
    const first = await post(url('/api/jitsi/create-room'), body);
    const second = await post(url('/api/jitsi/create-room'), body);
    expect(first.status).toBe(200);
    expect(first.body.roomName).toBe(second.body.roomName);
    expect(first.body.roomName).toMatch(/^appt-[a-z2-7]{26}$/);
    const therapist = decodeJwt(first.body.therapistToken).payload;
    const client = decodeJwt(first.body.clientToken).payload;
    expect([therapist.moderator, client.moderator]).toEqual([true, false]);
    expect([therapist.context.user.name, client.context.user.name]).toEqual(['Dr. Sarah Johnson', 'Alex']);
    expect(therapist.room).toBe(first.body.roomName);
    expect(therapist.exp).toBe(Math.floor(Date.parse(start) / 1000) + 75 * 60);
    for (const token of [first.body.therapistToken, first.body.clientToken]) expect(jitsiRuleViolations(token, expected)).toEqual([]);
  });

  it('validates its own tokens and refuses others with a reason, echoing nothing', async () => {
    const minted = await post(url('/api/jitsi/generate-token'), { roomName: 'room-1', userName: 'Grace', userId: 'user-1' });
    const valid = await post(url('/api/jitsi/validate-token'), { token: minted.body.token });
    expect(valid.body).toEqual({ valid: true, expiresAt: minted.body.expiresAt, signedWith: 'current', room: 'room-1', moderator: false, userId: 'user-1' });
    const tampered = await post(url('/api/jitsi/validate-token'), { token: `${minted.body.token.slice(0, -2)}AA` });
    expect(tampered.body).toEqual({ valid: false, reason: 'bad_signature' });
    const garbage = await post(url('/api/jitsi/validate-token'), { token: 'Bearer nonsense' });
    expect(garbage.body).toEqual({ valid: false, reason: 'malformed' });
  });
});

describe('local server: envelope, routing and errors', () => {
  it('answers unknown paths with a 404 problem and wrong methods with 405 and Allow', async () => {
    const missing = await rawRequest('/api/jitsi/nope', { method: 'GET' });
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toBe('application/problem+json');
    const wrong = await rawRequest('/api/jitsi/generate-token', { method: 'GET' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('POST');
    expect(JSON.parse(wrong.body)).toMatchObject({ type: 'urn:jitsi-token-api:problem:method-not-allowed', status: 405, requestId: expect.any(String) });
  });

  it.each([
    ['no content-type', { method: 'POST', body: '{}' }, 415],
    ['text/plain', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' }, 415],
    ['form data', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=b' }, 415],
    ['latin-1 charset', { method: 'POST', headers: { 'content-type': 'application/json; charset=iso-8859-1' }, body: '{}' }, 415],
    [
      'gzip',
      { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync('{"roomName":"a","userName":"b"}') },
      415,
    ],
    ['binary garbage', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([0xff, 0, 1]) }, 415],
    ['empty body', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '' }, 400],
    ['invalid UTF-8', { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.from([0x7b, 0xff, 0x7d]) }, 400],
    [
      'body over 8 KiB',
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ roomName: 'a', userName: 'x'.repeat(9000) }) },
      413,
    ],
    ['body over 1 MiB', { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(1_100_000) }, 413],
  ])('refuses %s', async (_, options, status) => {
    const response = await rawRequest('/api/jitsi/generate-token', options);
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(response.body)).toMatchObject({ status, requestId: expect.any(String), title: expect.any(String) });
  });

  it('puts the field at fault in a 400 and never echoes the input', async () => {
    const response = await post(url('/api/jitsi/generate-token'), { roomName: 'Secret Room', userName: 'Ada Lovelace' });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ type: 'urn:jitsi-token-api:problem:invalid-field', field: 'roomName' });
    expect(response.text).not.toContain('Secret Room');
    expect(response.text).not.toContain('Ada');
  });

  it('answers CORS preflight for allowed origins only, and puts CORS headers on errors too', async () => {
    const preflight = await rawRequest('/api/jitsi/generate-token', {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(preflight.headers['access-control-allow-headers']).toContain('authorization');
    const foreign = await rawRequest('/api/jitsi/generate-token', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    // Any loopback origin, with no setting (the local server only: a developer's front end on another port).
    for (const origin of ['http://localhost:3000', 'http://127.0.0.1:5173', 'http://[::1]:8080']) {
      const loopback = await rawRequest('/api/jitsi/generate-token', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
      expect(loopback.headers['access-control-allow-origin'], origin).toBe(origin);
    }
    // Not a name that merely starts like one, nor https on a loopback name.
    for (const origin of ['http://localhost.evil.example', 'https://localhost:3000', 'http://127.0.0.1.evil.example']) {
      const lookalike = await rawRequest('/api/jitsi/generate-token', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
      expect(lookalike.headers['access-control-allow-origin'], origin).toBeUndefined();
    }
    const error = await post(url('/api/jitsi/generate-token'), {}, { origin: 'http://127.0.0.1:8080' });
    expect(error.status).toBe(400);
    expect(error.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:8080');
  });

  it('sets the security headers on every response', async () => {
    const response = await post(url('/api/jitsi/generate-token'), { roomName: 'a', userName: 'b' });
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(response.headers.get('x-request-id')).toBeTruthy();
  });
});

describe('payload format 2.0 results', () => {
  it('turns a result without statusCode into a 200 JSON body, and decodes base64 bodies', () => {
    expect(fromLambdaResult({ hello: 'world' })).toMatchObject({ statusCode: 200, headers: { 'content-type': 'application/json' } });
    expect(fromLambdaResult({ hello: 'world' }).body.toString()).toBe('{"hello":"world"}');
    expect(fromLambdaResult('text').body.toString()).toBe('"text"');
    const binary = fromLambdaResult({
      statusCode: 201,
      headers: { 'X-Thing': 'a' },
      body: Buffer.from('hi').toString('base64'),
      isBase64Encoded: true,
      cookies: ['a=b'],
    });
    expect(binary).toMatchObject({ statusCode: 201, headers: { 'x-thing': 'a' }, cookies: ['a=b'] });
    expect(binary.body.toString()).toBe('hi');
  });
});
