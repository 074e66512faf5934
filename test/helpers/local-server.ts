// Starts the real local server (node:http on loopback, ephemeral port) in this process with
// dependencies made from a given environment map.
import type { Authenticator } from '../../infra/local/auth.ts';
import { createLocalDeps } from '../../infra/local/deps.ts';
import { startLocalServer, type RunningServer } from '../../infra/local/server.ts';
import { loadLocalSettings } from '../../lib/config.ts';
import { BASE_ENV, testDepsOptions, withOwnTable } from './handlers.ts';

export async function startServer(env: Record<string, string | undefined> = {}, authenticate?: Authenticator, cwd?: string): Promise<RunningServer> {
  const merged = withOwnTable({ ...BASE_ENV, ...env });
  const deps = createLocalDeps(loadLocalSettings(merged), { ...(await testDepsOptions(merged)), ...(cwd ? { cwd } : {}) });
  return startLocalServer({ deps, port: 0, host: '127.0.0.1', ...(authenticate ? { authenticate } : {}) });
}

export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: any; text: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}
