// The local server's dependencies: the function settings plus the local-only ones, and, when no
// secret is configured, the generated secret file.
import { loadLocalSettings, SETTINGS, type LocalSettings } from '#lib/config';
import { createDeps, type Deps, type DepsOptions } from '#lib/deps';
import { createLogger } from '#lib/log';
import { endMeeting } from '#lib/end-meeting';
import type { Logger } from '#lib/log';
import type { SecretSource } from '#lib/config';
import { createDynamoStore } from '#lib/store';
import { createWebhookDeliverer, newWebhookSecret } from '#lib/webhooks';
import { LOOPBACK_ORIGINS } from '#lib/cors';
import { readFileSync, writeFileSync } from 'node:fs';
import { createLocalPublisher, type LocalPublisher } from './publisher.ts';
import { createLocalFileFetcher, localSecretPath } from './secret-file.ts';

export type LocalDeps = Deps & { settings: LocalSettings; publisher: LocalPublisher };

export function createLocalDeps(settings: LocalSettings = loadLocalSettings(), options: DepsOptions & { cwd?: string } = {}): LocalDeps {
  const logger = options.logger ?? createLogger(undefined, undefined, settings.logLevel);
  const path = localSecretPath(options.cwd ?? process.cwd(), settings.signing);
  const secretFetcher = options.secretFetcher ?? (settings.secretSource.kind === 'none' ? createLocalFileFetcher(path, logger, settings.signing) : undefined);
  // Prosody's keys, when none is set: generated once into untracked files.
  const localKey = (source: SecretSource, kind: 'reservations' | 'events', what: string) =>
    source.kind === 'none' ? createLocalFileFetcher(localSecretPath(options.cwd ?? process.cwd(), kind), logger, 'hs256', what) : undefined;
  const reservationKeyFetcher =
    options.reservationKeyFetcher ??
    localKey(
      settings.reservationKeySource,
      'reservations',
      `a local reservation API key for Prosody; set ${SETTINGS.reservationsApiKey.variable} to choose it`,
    );
  const eventsKeyFetcher =
    options.eventsKeyFetcher ??
    localKey(
      settings.eventsKeySource,
      'events',
      `a local event sync API key for Prosody's event sync component; set ${SETTINGS.eventsApiKey.variable} to choose it`,
    );
  // The platform events: to WEBHOOK_URL when it is set; a cancel ends the meeting when END_MEETING_URL is.
  let built: LocalDeps | undefined;
  const publisher = createLocalPublisher({
    logger,
    webhook:
      settings.webhookUrl === undefined
        ? undefined
        : createWebhookDeliverer({ url: settings.webhookUrl, secret: webhookSecretOf(settings, options.cwd, logger), logger }),
    onCancelled: (appointmentId) => endMeeting(built!, appointmentId, { actor: 'jitsi-token-api', requestId: `cancel-${appointmentId}` }, 'cancelled'),
  });
  // Browsers on this machine's own origins (a front end on another port) need no setting locally.
  const localSettings = { ...settings, corsOrigins: Object.freeze([...settings.corsOrigins, LOOPBACK_ORIGINS]) };
  built = createDeps(localSettings, {
    openStore: createDynamoStore,
    publisher,
    ...options,
    logger,
    ...(secretFetcher ? { secretFetcher } : {}),
    ...(reservationKeyFetcher ? { reservationKeyFetcher } : {}),
    ...(eventsKeyFetcher ? { eventsKeyFetcher } : {}),
  }) as LocalDeps;
  return built;
}

/** WEBHOOK_SECRET, or a secret generated once into an untracked file (printed nowhere: read the file). */
function webhookSecretOf(settings: LocalSettings, cwd: string | undefined, logger: Logger): string {
  if (settings.webhookSecret !== undefined) return settings.webhookSecret;
  const path = localSecretPath(cwd ?? process.cwd(), 'webhook');
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = newWebhookSecret();
  try {
    writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    logger.warn(`generated a webhook signing secret; set ${SETTINGS.webhookSecret.variable} to choose it`, { file: path });
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(path, 'utf8').trim();
    throw error;
  }
}
