import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["node_modules", "dist"],
    // Builds dist/ once: the e2e tests run the shipped binary.
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: files run in parallel, each in its own Redis key prefix.
    pool: "forks",
    maxWorkers: 2,
  },
});
