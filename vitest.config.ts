import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration files share one Docker engine on a 2-core machine; run files one at a time.
    fileParallelism: false,
    pool: 'forks',
    // FAAS_TEST_CPU_LOAD=N runs N CPU hogs beside the suite (the robustness check of the README's Tests section).
    globalSetup: ['test/support/cpu-load.ts'],
  },
});
