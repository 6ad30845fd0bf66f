import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The suite in three layers (README, Testing). The layer is in a test file's name:
 *   unit         *.test.ts              alf's TypeScript in-process: no build, no subprocess, no
 *                                      worker thread, no server (test/layers/unit-guard.ts refuses them);
 *   integration  *.integration.test.ts  the CLI as a process, worker threads, the built package;
 *   e2e          *.e2e.test.ts          real nginx, HAProxy, Chromium, an S3 server.
 * `npm test` runs all three; `npm run test:unit` is the inner loop.
 */

const INTEGRATION = 'test/**/*.integration.test.ts';
const E2E = 'test/**/*.e2e.test.ts';

export default defineConfig({
  test: {
    // A timeout is there to catch a hang, not to time the code (speed is `npm run bench`'s): on a
    // shared or loaded machine vitest's 5 s default failed sound tests that do real work.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, INTEGRATION, E2E], setupFiles: ['test/layers/unit-guard.ts'] },
      },
      { extends: true, test: { name: 'integration', include: [INTEGRATION], globalSetup: ['test/layers/build-once.ts'] } },
      { extends: true, test: { name: 'e2e', include: [E2E], globalSetup: ['test/layers/build-once.ts'] } },
    ],
  },
});
