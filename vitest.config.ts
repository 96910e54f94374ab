import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // 2-core machines: files run in forks so each owns its redis-server.
    pool: 'forks',
    globalSetup: ['test/harness/globalSetup.ts'],
  },
});
