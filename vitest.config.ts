import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

const migrations = await readD1Migrations("./schema/migrations");

/**
 * Three projects in one `npm test`:
 * - unit: pure modules in plain Node (no runtime to start);
 * - workers: handlers, D1 and Durable Objects inside workerd (wrangler.toml's `dev` environment);
 * - node: real client libraries and Chromium against one running worker (test/node/global-setup.ts).
 * Tests hash passwords cheaply (PASSWORD_HASH_PARAMS); one unit test checks the production default.
 */
export default defineConfig({
  test: {
    // Both cores: the workers project's files and the node project's browser tests overlap.
    maxWorkers: 2,
    projects: [
      {
        test: { name: "unit", include: ["test/unit/**/*.test.ts"], environment: "node" },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml", environment: "dev" },
            miniflare: {
              bindings: {
                TEST_MIGRATIONS: migrations,
                ADMIN_TOKEN: "test-admin-token",
                KEY_ENCRYPTION_SECRET: "test-key-encryption-secret-0123456789",
                PASSWORD_HASH_PARAMS: "scrypt$N=1024,r=8,p=1",
              },
            },
          }),
        ],
        test: {
          name: "workers",
          include: ["test/**/*.test.ts"],
          exclude: ["test/node/**", "test/unit/**"],
          setupFiles: ["./test/apply-migrations.ts"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "node",
          include: ["test/node/**/*.test.ts"],
          environment: "node",
          globalSetup: ["./test/node/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
