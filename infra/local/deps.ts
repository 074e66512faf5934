// The local server's dependencies: the function settings plus the local-only ones, and, when no
// secret is configured, the generated secret file.
import { loadLocalSettings, SETTINGS, type LocalSettings } from '#lib/config';
import { createDeps, type Deps, type DepsOptions } from '#lib/deps';
import { createLogger } from '#lib/log';
import { createDynamoStore } from '#lib/store';
import { createLocalFileFetcher, localSecretPath } from './secret-file.ts';

export type LocalDeps = Deps & { settings: LocalSettings };

export function createLocalDeps(settings: LocalSettings = loadLocalSettings(), options: DepsOptions & { cwd?: string } = {}): LocalDeps {
  const logger = options.logger ?? createLogger(undefined, undefined, settings.logLevel);
  const path = localSecretPath(options.cwd ?? process.cwd(), settings.signing);
  const secretFetcher = options.secretFetcher ?? (settings.secretSource.kind === 'none' ? createLocalFileFetcher(path, logger, settings.signing) : undefined);
  const reservationKeyFetcher =
    options.reservationKeyFetcher ??
    (settings.reservationKeySource.kind === 'none'
      ? createLocalFileFetcher(
          localSecretPath(options.cwd ?? process.cwd(), 'reservations'),
          logger,
          'hs256',
          `a local reservation API key for Prosody; set ${SETTINGS.reservationsApiKey.variable} to choose it`,
        )
      : undefined);
  return createDeps(settings, {
    openStore: createDynamoStore,
    ...options,
    logger,
    ...(secretFetcher ? { secretFetcher } : {}),
    ...(reservationKeyFetcher ? { reservationKeyFetcher } : {}),
  }) as LocalDeps;
}
