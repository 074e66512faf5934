// Debian's Chromium driven by playwright-core. The browser tests skip, saying why, only where
// Chromium is not installed (.ci/run installs it).
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const chromiumMissing = !existsSync(CHROMIUM);
if (chromiumMissing) console.warn(`browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);

/** A host name that is not loopback (for the browser's idea of an origin) but reaches this machine's loopback. */
export const NON_LOOPBACK_HOST = 'frontend.example.test';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // Without the networking flags Chromium keeps calling hosts this machine cannot reach.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
      // Pages served on loopback can also be opened as NON_LOOPBACK_HOST: another origin, nothing leaves the machine.
      `--host-resolver-rules=MAP ${NON_LOOPBACK_HOST} 127.0.0.1`,
    ],
  });
}
