// Every folder a test makes lives under test-artifacts/tmp (ignored by git), never in the
// system temp folder: a test run leaves nothing behind outside the checkout's ignored folders.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const TEST_TMP = resolve(import.meta.dirname, '../../test-artifacts/tmp');

export function testTempDir(prefix: string): string {
  mkdirSync(TEST_TMP, { recursive: true });
  return mkdtempSync(join(TEST_TMP, prefix));
}
