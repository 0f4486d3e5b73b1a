import { defineConfig } from 'vitest/config';

// Four tiers, all run by `npm test`. Each integration/HTTP test file gets its own SQLite file.
export default defineConfig({
  test: {
    pool: 'forks',
    projects: [
      { test: { name: 'unit', include: ['tests/unit/**/*.test.ts'] } },
      { test: { name: 'integration', include: ['tests/integration/**/*.test.ts'], testTimeout: 20_000 } },
      { test: { name: 'http', include: ['tests/http/**/*.test.ts'], testTimeout: 20_000 } },
      {
        test: {
          name: 'browser',
          include: ['tests/browser/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // One Chromium at a time on a 2-core machine.
          fileParallelism: false,
        },
      },
    ],
  },
});
