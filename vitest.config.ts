import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each file gets a fresh module graph, so a file can set process.env before importing handlers.
    isolate: true,
    setupFiles: ['test/setup/capture-logs.ts'],
    globalSetup: ['test/setup/log-scan.ts'],
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
