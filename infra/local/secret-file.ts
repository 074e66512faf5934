// `npm start` with no secret configured: a random development secret (or RSA key) made once and
// kept in an untracked file. Local only: never bundled into a function.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Signing } from '#lib/config';
import { SETTINGS } from '#lib/config';
import type { Logger } from '#lib/log';
import type { SecretFetcher } from '#lib/secret';

/** Where the generated secrets live (all match the one .gitignore pattern, .jitsi-dev-*). */
export const LOCAL_SECRET_FILES: Readonly<Record<Signing | 'reservations' | 'events' | 'webhook', string>> = {
  hs256: '.jitsi-dev-secret',
  rs256: '.jitsi-dev-rs256-key.json',
  reservations: '.jitsi-dev-reservations-key',
  events: '.jitsi-dev-events-key',
  webhook: '.jitsi-dev-webhook-secret',
};

export const localSecretPath = (cwd: string, kind: keyof typeof LOCAL_SECRET_FILES): string => resolve(cwd, LOCAL_SECRET_FILES[kind]);

/** A new local development secret: 64 random characters, or an RSA key pair with a kid. */
export function generateLocalSecret(signing: Signing): string {
  if (signing === 'hs256') return randomBytes(48).toString('base64url');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return JSON.stringify({ kid: `local-${randomBytes(6).toString('hex')}`, privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) });
}

export function createLocalFileFetcher(
  path: string,
  logger: Logger,
  signing: Signing,
  what = `a local development app secret; set ${SETTINGS.appSecret.variable} to use your Jitsi server's app_secret`,
  generate: () => string = () => generateLocalSecret(signing),
): SecretFetcher {
  async function readOrCreate(): Promise<string> {
    try {
      return (await readFile(path, 'utf8')).trim();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const secret = generate();
    try {
      await writeFile(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
      logger.warn(`generated ${what}`, { file: path });
      return secret;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return (await readFile(path, 'utf8')).trim();
      throw error;
    }
  }
  return async () => ({ value: await readOrCreate() });
}
