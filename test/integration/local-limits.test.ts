// The local server's store (it is a deployment option for small clinics): the folder is the
// owner's alone whatever the umask.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEmbeddedStore } from '../../infra/local/embedded-store.ts';
import { testTempDir } from '../helpers/temp.ts';

describe("the local server's store folder", () => {
  it('keeps the store folder to its owner under a permissive umask', async () => {
    const folder = join(testTempDir('umask-'), 'store');
    const previous = process.umask(0o000);
    try {
      const store = await startEmbeddedStore(folder);
      await store.close();
    } finally {
      process.umask(previous);
    }
    expect(statSync(folder).mode & 0o077).toBe(0);
  });
});
