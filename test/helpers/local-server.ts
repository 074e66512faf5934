// Starts the real local server (node:http on loopback, ephemeral port) in this process with a
// given environment.
import { vi } from 'vitest';
import type { Authenticator, RunningServer } from '../../infra/local-server.ts';
import { applyEnv, BASE_ENV } from './handlers.ts';

export async function startServer(env: Record<string, string | undefined> = {}, authenticate?: Authenticator): Promise<RunningServer> {
  applyEnv({ ...BASE_ENV, ...env });
  vi.resetModules();
  const { startLocalServer } = await import('../../infra/local-server.ts');
  return startLocalServer({ port: 0, host: '127.0.0.1', ...(authenticate ? { authenticate } : {}) });
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: any; text: string }> {
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
