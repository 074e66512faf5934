// `npm start`: the local server, with a bad setting reported as one line naming the variable
// (the settings are read when the server module loads, so this wrapper catches that).
import { ConfigError } from '#lib/config';

try {
  await import('./local-server.ts').then((server) => server.main());
} catch (error) {
  const message = error instanceof ConfigError ? error.message : `jitsi-token-api could not start: ${error instanceof Error ? error.message : String(error)}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
}
