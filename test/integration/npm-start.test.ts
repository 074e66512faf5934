// `npm start` as a newcomer runs it: a real process, no configuration, a generated secret kept
// in an untracked file across restarts, clean shutdown on SIGTERM.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../lib/routes.ts';
import { post } from '../helpers/local-server.ts';
import { recordLogLines } from '../helpers/log-record.ts';
import { testTempDir } from '../helpers/temp.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const workDir = testTempDir('start-');
const started: ChildProcess[] = [];

/** Starts the server the way `npm start` does, in an empty folder with no settings. */
function start(extraEnv: Record<string, string> = {}, cwd = workDir): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', ...extraEnv };
  const child = spawn(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'infra/local/start.ts')], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let output = '';
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start-up line in: ${output}`)), 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"message":"jitsi-token-api listening","url":"([^"]+)"/.exec(output);
      if (match) {
        clearTimeout(timer);
        outputs.push(() => output);
        resolvePromise({ child, url: match[1]!, output: () => output });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
  });
}

const exitCode = (child: ChildProcess) => new Promise<number | null>((resolvePromise) => child.once('exit', (code) => resolvePromise(code)));

const outputs: Array<() => string> = [];

afterAll(() => {
  for (const child of started) child.kill('SIGKILL');
  for (const output of outputs) recordLogLines(output(), 'npm-start');
});

describe('npm start with no configuration', () => {
  it("leaves git status clean in each signing mode: every file it generates matches the checkout's ignore pattern", async () => {
    // A checkout of its own: the project's .gitignore, then npm start in it as a newcomer would.
    const checkout = testTempDir('git-');
    copyFileSync(join(ROOT, '.gitignore'), join(checkout, '.gitignore'));
    execFileSync('git', ['init', '-q'], { cwd: checkout });
    execFileSync('git', ['-c', 'user.email=test@example.invalid', '-c', 'user.name=test', 'add', '.gitignore'], { cwd: checkout });
    execFileSync('git', ['-c', 'user.email=test@example.invalid', '-c', 'user.name=test', 'commit', '-qm', 'ignore'], { cwd: checkout });
    for (const signing of ['hs256', 'rs256']) {
      const server = await start({ JITSI_SIGNING: signing }, checkout);
      expect((await post(`${server.url}${ROUTES.generateToken.path}`, { roomName: 'room-1', userName: 'Git Check' })).status).toBe(200);
      const appointment = {
        appointmentId: `git-${signing}`,
        therapistId: 't',
        clientId: 'c',
        scheduledStartTime: new Date(Date.now() + 600_000).toISOString(),
      };
      expect((await post(`${server.url}${ROUTES.createRoom.path}`, appointment)).status).toBe(200);
      const exited = exitCode(server.child);
      server.child.kill('SIGTERM');
      await exited;
    }
    const generated = readdirSync(checkout).filter((name) => name !== '.git' && name !== '.gitignore');
    expect(generated.sort()).toEqual([
      '.jitsi-dev-events-key',
      '.jitsi-dev-reservations-key',
      '.jitsi-dev-rs256-key.json',
      '.jitsi-dev-secret',
      '.jitsi-dev-store',
    ]);
    expect(execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: checkout, encoding: 'utf8' })).toBe('');
    rmSync(checkout, { recursive: true, force: true });
  });

  it('serves tokens, keeps its generated secret across restarts, and stops cleanly', async () => {
    const first = await start();
    const minted = await post(`${first.url}/api/jitsi/generate-token`, { roomName: 'test-room-123', userName: 'Test User' });
    expect(minted.status).toBe(200);
    expect(first.output()).toContain('generated a local development app secret');
    const secretFile = join(workDir, '.jitsi-dev-secret');
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(secretFile, 'utf8').trim()).toMatch(/^[A-Za-z0-9_-]{64}$/);
    // The README's Prosody example reads the reservation key file right after start-up.
    const reservationKey = readFileSync(join(workDir, '.jitsi-dev-reservations-key'), 'utf8').trim();
    const reserved = await fetch(`${first.url}/api/jitsi/reservations/conference`, {
      method: 'POST',
      headers: { authorization: `Bearer ${reservationKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name: 'first-call', start_time: new Date().toISOString(), mail_owner: 'owner@meet.example.com' }),
    });
    expect(reserved.status).toBe(200);
    const firstExit = exitCode(first.child);
    first.child.kill('SIGTERM');
    expect(await firstExit).toBe(0);

    const second = await start();
    const checked = await post(`${second.url}/api/jitsi/validate-token`, { token: minted.body.token });
    expect(checked.body).toMatchObject({ valid: true });
    expect(second.output()).not.toContain(readFileSync(secretFile, 'utf8').trim());
    const secondExit = exitCode(second.child);
    second.child.kill('SIGINT');
    expect(await secondExit).toBe(0);
  });

  it('refuses to start on a bad setting, naming the variable', async () => {
    const child = spawn(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'infra/local/start.ts')], {
      cwd: workDir,
      env: { PATH: process.env.PATH ?? '', TOKEN_TTL_SECONDS: 'two hours' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.push(child);
    let output = '';
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    expect(await exitCode(child)).not.toBe(0);
    expect(output.trim()).toBe('Invalid configuration: TOKEN_TTL_SECONDS must be a whole number from 60 to 86400');
  });
});

describe('two npm start in one checkout', () => {
  it('tells the second what holds the store folder and how to run beside it, and starts again once the first stopped', async () => {
    const folder = testTempDir('two-');
    const first = await start({}, folder);
    const second = spawn(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'infra/local/start.ts')], {
      cwd: folder,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.push(second);
    let said = '';
    second.stderr?.on('data', (chunk: Buffer) => {
      said += chunk.toString();
    });
    expect(await exitCode(second)).toBe(1);
    expect(said).toMatch(/the store folder .*\.jitsi-dev-store is in use by process \d+ .*PORT=<another port> and LOCAL_STORE=memory/);
    first.child.kill('SIGTERM');
    expect(await exitCode(first.child)).toBe(0);
    const again = await start({}, folder);
    expect((await post(`${again.url}${ROUTES.generateToken.path}`, { roomName: 'room-1', userName: 'Test User' })).status).toBe(200);
    again.child.kill('SIGTERM');
    await exitCode(again.child);
  });
});

describe('npm start against a DynamoDB endpoint', () => {
  it('uses the endpoint LOCAL_DYNAMODB_ENDPOINT names instead of the embedded store', async () => {
    const { ensureTable, startEmbeddedStore } = await import('../../infra/local/embedded-store.ts');
    const elsewhere = await startEmbeddedStore('memory');
    await ensureTable(elsewhere.client, 'jitsi-appointments');
    const folder = testTempDir('endpoint-');
    const server = await start(
      { LOCAL_DYNAMODB_ENDPOINT: elsewhere.client.endpoint, AWS_REGION: 'local', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' },
      folder,
    );
    const created = await post(`${server.url}${ROUTES.createRoom.path}`, {
      appointmentId: 'elsewhere-1',
      therapistId: 't',
      clientId: 'c',
      scheduledStartTime: new Date(Date.now() + 600_000).toISOString(),
    });
    expect(created.status).toBe(200);
    expect(readdirSync(folder)).not.toContain('.jitsi-dev-store');
    const { DynamoDBClient, QueryCommand } = await import('@aws-sdk/client-dynamodb');
    const client = new DynamoDBClient(elsewhere.client);
    const items = await client.send(
      new QueryCommand({
        TableName: 'jitsi-appointments',
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: 'APPT#elsewhere-1' } },
      }),
    );
    client.destroy();
    expect(items.Count).toBeGreaterThan(0);
    server.child.kill('SIGTERM');
    await exitCode(server.child);
    await elsewhere.close();
  });
});
