// Starts `infra/local/start.ts` (the local server) as its own process (as `npm start` does) for load and benchmark
// runs, so the load generator does not share the server's event loop.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { settingsEnvironment } from '../lib/config.ts';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export function startServerProcess(env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(join(PROJECT_ROOT, 'node_modules/.bin/tsx'), [join(PROJECT_ROOT, 'infra/local/start.ts')], {
    cwd: PROJECT_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      ...settingsEnvironment({ port: '0', appSecret: randomBytes(48).toString('base64url'), jitsiDomain: 'meet.example.com', localStore: 'memory' }),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolvePromise, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error('the local server did not start within 20 s')), 20_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const match = /"message":"jitsi-token-api listening","url":"([^"]+)"/.exec(buffered);
      if (match) {
        clearTimeout(timer);
        buffered = '';
        resolvePromise({
          url: match[1]!,
          child,
          stop: () =>
            new Promise((done) => {
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      } else if (buffered.length > 100_000) buffered = buffered.slice(-10_000);
    });
    child.once('exit', (code) => reject(new Error(`the local server exited with ${code}`)));
  });
}
