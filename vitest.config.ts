import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each file in its own process: servers, fake endpoints and timers never leak between files.
    isolate: true,
    setupFiles: ['test/setup/capture-logs.ts'],
    globalSetup: ['test/setup/log-scan.ts'],
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 60_000,
    coverage: {
      provider: 'v8',
      include: ['lib/**', 'functions/**', 'infra/**'],
      reporter: ['text-summary', 'text'],
      reportsDirectory: 'coverage',
    },
  },
});
