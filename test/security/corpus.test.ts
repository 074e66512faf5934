// The hostile-input corpus over real HTTP against the local server: each case gets exactly the
// status and problem type it names, and no case gets a 5xx.
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../infra/local/server.ts';
import { startServer } from '../helpers/local-server.ts';
import { startOidcIssuer, type OidcIssuer } from '../helpers/oidc-issuer.ts';
import { rawRequest, type RawResponse } from '../helpers/raw-http.ts';
import { ROUTES } from '../../lib/routes.ts';
import { buildCorpus, CORPUS_APPOINTMENT, type CorpusCase } from './corpus.ts';

const corpus = buildCorpus();
const statuses: Record<string, number> = {};
let server: RunningServer;

beforeAll(async () => {
  server = await startServer();
  const registered = await rawRequest(`${server.url}${ROUTES.createRoom.path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...CORPUS_APPOINTMENT, scheduledStartTime: new Date(Date.now() + 3_600_000).toISOString() }),
  });
  expect(registered.status).toBe(200);
});
afterAll(async () => {
  await server.close();
  mkdirSync('test-artifacts/figures', { recursive: true });
  const fiveHundreds = Object.entries(statuses)
    .filter(([status]) => status.startsWith('5'))
    .reduce((sum, [, count]) => sum + count, 0);
  writeFileSync('test-artifacts/figures/security-corpus.json', JSON.stringify({ cases: corpus.length, statuses, fiveHundreds }, null, 2));
});

function send(testCase: CorpusCase): Promise<RawResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...testCase.headers };
  if (headers['content-type'] === '') delete headers['content-type'];
  const body =
    testCase.body === undefined
      ? undefined
      : typeof testCase.body === 'object' && !Buffer.isBuffer(testCase.body)
        ? JSON.stringify(testCase.body.json)
        : testCase.body;
  return rawRequest(`${server.url}${testCase.path}`, { method: testCase.method ?? 'POST', headers, ...(body === undefined ? {} : { body }) });
}

function checkProblem(response: RawResponse, type: string): void {
  expect(response.headers['content-type']).toBe('application/problem+json');
  const problem = JSON.parse(response.text);
  expect(problem).toMatchObject({
    type: `urn:jitsi-token-api:problem:${type}`,
    status: response.status,
    title: expect.any(String),
    requestId: expect.any(String),
  });
  expect(response.text).not.toMatch(/\bat .+:\d+:\d+|Error:|SyntaxError|Unexpected token/);
}

describe(`hostile-input corpus (${corpus.length} cases over HTTP)`, () => {
  it('has at least 150 cases across every group of docs/SECURITY.md', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(150);
    expect(new Set(corpus.map((testCase) => testCase.group))).toEqual(
      new Set(['envelope', 'JSON', 'structure', 'types', 'strings', 'room names', 'times', 'tokens', 'appointments', 'reservations']),
    );
  });

  it.each(corpus.map((testCase) => [`${testCase.group}: ${testCase.name}`, testCase] as const))('%s', async (_, testCase) => {
    const response = await send(testCase);
    statuses[response.status] = (statuses[response.status] ?? 0) + 1;
    expect(response.status).toBeLessThan(500);
    expect(response.status).toBe(testCase.status);
    if (testCase.expect === 'verdict:false') expect(JSON.parse(response.text)).toEqual({ valid: false, reason: expect.any(String) });
    else if (testCase.expect === 'ok') expect(response.headers['cache-control']).toBe('no-store');
    else checkProblem(response, testCase.expect);
    if (testCase.status === 405) expect(response.headers.allow).toBe(testCase.allow ?? 'POST');
  });
});

describe('caller group (AUTH_MODE=jwt, loopback OIDC issuer)', () => {
  let issuer: OidcIssuer;
  let jwtServer: RunningServer;
  beforeAll(async () => {
    issuer = await startOidcIssuer();
    const { createAuthenticator } = await import('../../infra/local/auth.ts');
    jwtServer = await startServer(
      { AUTH_MODE: 'jwt', MODERATOR_CLAIM: 'roles', MODERATOR_VALUES: 'therapist' },
      createAuthenticator({ authIssuer: issuer.issuer, authAudience: 'test-client' }),
    );
  });
  afterAll(async () => {
    await jwtServer.close();
    await issuer.close();
  });

  it.each([
    ['no credential', async () => ({}), { roomName: 'r' }, 401, 'unauthenticated'],
    ['a bad credential', async () => ({ authorization: 'Bearer x.y.z' }), { roomName: 'r' }, 401, 'unauthenticated'],
    [
      'the wrong role',
      async () => ({ authorization: `Bearer ${await issuer.sign({ sub: 'c', name: 'C', roles: ['client'] })}` }),
      { roomName: 'r', isModerator: true },
      403,
      'forbidden',
    ],
    [
      "someone else's identity",
      async () => ({ authorization: `Bearer ${await issuer.sign({ sub: 'c', name: 'C' })}` }),
      { roomName: 'r', userId: 'not-c' },
      403,
      'forbidden',
    ],
  ] as const)('%s', async (_, headers, body, status, type) => {
    const response = await rawRequest(`${jwtServer.url}/api/jitsi/generate-token`, {
      headers: { 'content-type': 'application/json', ...(await headers()) },
      body: JSON.stringify(body),
    });
    statuses[response.status] = (statuses[response.status] ?? 0) + 1;
    expect(response.status).toBe(status);
    checkProblem(response, type);
  });
});
