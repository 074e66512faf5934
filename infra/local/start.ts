// `npm start`: the local server with the local settings; a bad setting is reported as one line
// naming the variable, with no stack trace.
import { ConfigError, loadLocalSettings, SETTINGS } from '#lib/config';
import { routeKeyOf, routes } from '#lib/routes';

try {
  const settings = loadLocalSettings();
  const [{ createLocalDeps }, { startLocalServer }, { settleDueOutcomes }] = await Promise.all([
    import('./deps.ts'),
    import('./server.ts'),
    import('#lib/jitsi-events'),
  ]);
  const { startEmbeddedStore, ensureTable } = await import('./embedded-store.ts');
  // A real DynamoDB (a self-hosted deployment, a test) when LOCAL_DYNAMODB_ENDPOINT names one; else the embedded store.
  const endpoint = settings.localDynamoDbEndpoint;
  const listen = settings.localStorePort === undefined ? undefined : { host: settings.localStoreHost, port: settings.localStorePort };
  const store = endpoint === undefined ? await startEmbeddedStore(settings.localStore, process.cwd(), listen) : { client: { endpoint }, close: async () => {} };
  if (endpoint === undefined) await ensureTable(store.client, settings.appointmentsTable);
  const deps = createLocalDeps(settings, { storeClient: store.client });
  // The reservation key is loaded lazily in Lambda (only the reservation functions need it);
  // locally it is loaded now, so its generated file exists before anyone copies it into a curl.
  await deps.reservationKey.get().catch(() => deps.logger.warn('the reservation API key could not be loaded; the reservation routes will answer 503'));
  await deps.eventsKey.get().catch(() => deps.logger.warn('the event sync API key could not be loaded; the event routes will answer 503'));
  // What the stack's 5-minute rule does: tell the outcomes of sessions whose window has closed.
  const outcomes = setInterval(() => void settleDueOutcomes(deps).catch(() => deps.logger.warn('outcomes could not be settled; next try in a minute')), 60_000);
  outcomes.unref();
  const authenticate = settings.authMode === 'jwt' ? (await import('./auth.ts')).createAuthenticator(settings) : undefined;
  const running = await startLocalServer({ deps, ...(authenticate ? { authenticate } : {}) });
  deps.logger.info('jitsi-token-api listening', {
    url: running.url,
    routes: routes.map(routeKeyOf).join(', '),
    authMode: settings.authMode,
    secretSource: settings.secretSource.kind === 'none' ? 'local-file' : settings.secretSource.kind,
    store:
      endpoint !== undefined
        ? `DynamoDB at ${SETTINGS.localDynamoDbEndpoint.variable}`
        : settings.localStore === 'memory'
          ? 'embedded, in memory'
          : 'embedded, on disk',
    // For functions under sam local (APPOINTMENTS_ENDPOINT in events/env.json).
    ...(listen && endpoint === undefined ? { storeEndpoint: store.client.endpoint } : {}),
  });
  const firstRoute = routes[0]!;
  process.stdout.write(
    `\njitsi-token-api on ${running.url}  (try: curl -s ${running.url}${firstRoute.path} -H 'content-type: application/json' -d '{"roomName":"test-room-123","userName":"Test User"}')\n\n`,
  );
  const stop = (signal: string) => {
    deps.logger.info('shutting down', { signal });
    void running
      .close()
      .then(() => deps.publisher.settled())
      .then(() => store.close())
      .then(() => process.exit(0));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
} catch (error) {
  const known = error instanceof ConfigError || (error instanceof Error && error.name === 'StoreInUseError');
  const message = known ? (error as Error).message : `jitsi-token-api could not start: ${error instanceof Error ? error.message : String(error)}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
}
