import { describe, expect, it } from 'vitest';
import { createLogger } from '../../lib/log.ts';
import { toProblem } from '../../lib/http/problem-errors.ts';
import type { HttpProblem } from '../../lib/problem.ts';
import { createAppSecretCache, parseSecretString, SecretFetchError, type SecretFetcher } from '../../lib/secret.ts';
import { testTempDir } from '../helpers/temp.ts';

const GOOD = 'a-good-app-secret-a-good-app-secret-0123';
const NEWER = 'a-newer-app-secret-a-newer-app-secret-01';

function setup(fetcher: SecretFetcher) {
  let clock = 0;
  const lines: string[] = [];
  const cache = createAppSecretCache(fetcher, {
    refreshMs: 300_000,
    staleMs: 3_600_000,
    logger: createLogger((line) => lines.push(line)),
    now: () => clock,
    deadlineMs: 200,
  });
  return { cache, lines, advance: (ms: number) => (clock += ms) };
}

describe('app secret cache', () => {
  it('fetches once per refresh period, with one fetch in flight for concurrent callers', async () => {
    let calls = 0;
    const { cache, advance } = setup(async () => {
      calls++;
      return { value: GOOD };
    });
    await Promise.all(Array.from({ length: 50 }, () => cache.get()));
    expect(calls).toBe(1);
    advance(299_000);
    await cache.get();
    expect(calls).toBe(1);
    advance(2_000);
    await cache.get();
    expect(calls).toBe(2);
  });

  it('keeps the KeyObject when the value has not changed, and picks up a new value after the refresh period', async () => {
    let value = GOOD;
    const { cache, advance } = setup(async () => ({ value }));
    const first = await cache.get();
    advance(300_001);
    expect(await cache.get()).toBe(first);
    value = NEWER;
    advance(300_001);
    expect((await cache.get()).signingKey).not.toBe(first.signingKey);
  });

  it('serves the last good secret through failed refreshes inside the stale window, then fails closed with 503', async () => {
    let fail = false;
    const { cache, advance, lines } = setup(async () => {
      if (fail) throw new SecretFetchError('ThrottlingException');
      return { value: GOOD };
    });
    const good = await cache.get();
    fail = true;
    advance(300_001);
    expect(await cache.get()).toBe(good);
    advance(3_000_000);
    expect(await cache.get()).toBe(good);
    advance(600_000);
    const error = await cache.get().catch((e: unknown) => e);
    const problem = toProblem(error) as HttpProblem;
    expect(problem.status).toBe(503);
    expect(problem.options.headers?.['retry-after']).toBe('5');
    expect(lines.some((line) => line.includes('ThrottlingException'))).toBe(true);
    expect(lines.join('\n')).not.toContain(GOOD);
  });

  it('answers 503 within the deadline when the source hangs, and never rejects unhandled on prefetch', async () => {
    const { cache } = setup(() => new Promise<never>(() => {}));
    cache.prefetch();
    const started = Date.now();
    const error = await cache.get().catch((e: unknown) => e);
    expect(toProblem(error)?.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('refuses a secret shorter than 32 bytes and says why in the log', async () => {
    const { cache, lines } = setup(async () => ({ value: 'short-secret' }));
    expect(toProblem(await cache.get().catch((e: unknown) => e))?.status).toBe(503);
    expect(lines.join('\n')).toMatch(/shorter than 32 bytes/);
    expect(lines.join('\n')).not.toContain('short-secret');
  });

  it('reads a plain SecretString or JSON with appSecret', () => {
    expect(parseSecretString(GOOD)).toBe(GOOD);
    expect(parseSecretString(JSON.stringify({ appSecret: GOOD }))).toBe(GOOD);
    expect(() => parseSecretString('{"appSecret":')).toThrow(SecretFetchError);
    expect(() => parseSecretString('{"other":"x"}')).toThrow(SecretFetchError);
  });
});

describe('local development secrets', () => {
  it('generates and then reuses an RSA key with a kid in RS256 mode, and a 64-character secret in HS256 mode', async () => {
    const { readFileSync, statSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { createLocalFileFetcher } = await import('../../infra/local/secret-file.ts');
    const dir = testTempDir('local-secret-');
    const lines: string[] = [];
    const logger = createLogger((line) => lines.push(line));
    const rsa = createAppSecretCache(createLocalFileFetcher(join(dir, 'rs.json'), logger, 'rs256'), {
      signing: 'rs256',
      refreshMs: 1000,
      staleMs: 1000,
      logger,
    });
    const first = await rsa.get();
    expect(first.kid).toMatch(/^local-[0-9a-f]{12}$/);
    expect(first.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(statSync(join(dir, 'rs.json')).mode & 0o777).toBe(0o600);
    const again = await createAppSecretCache(createLocalFileFetcher(join(dir, 'rs.json'), logger, 'rs256'), {
      signing: 'rs256',
      refreshMs: 1000,
      staleMs: 1000,
      logger,
    }).get();
    expect(again.kid).toBe(first.kid);
    await createAppSecretCache(createLocalFileFetcher(join(dir, 'hs'), logger, 'hs256'), { refreshMs: 1000, staleMs: 1000, logger }).get();
    expect(readFileSync(join(dir, 'hs'), 'utf8').trim()).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(lines.join('\n')).not.toContain('PRIVATE KEY');
  });
});

describe('a secret whose value cannot be used', () => {
  it('is fetched once per minute, not once per request, and logged once per fetch', async () => {
    let clock = 1_000_000;
    let fetches = 0;
    const lines: string[] = [];
    const cache = createAppSecretCache(
      async () => {
        fetches++;
        return { value: 'too-short' };
      },
      { refreshMs: 300_000, staleMs: 3_600_000, logger: createLogger((line) => lines.push(line)), now: () => clock },
    );
    for (let i = 0; i < 50; i++) expect(toProblem(await cache.get().catch((e: unknown) => e))?.status).toBe(503);
    expect(fetches).toBe(1);
    expect(lines.filter((line) => line.includes('shorter than'))).toHaveLength(1);
    clock += 61_000;
    await cache.get().catch(() => undefined);
    expect(fetches).toBe(2);
  });
});
