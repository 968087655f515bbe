import { mkdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Redis } from "ioredis";
import { connectRedis } from "../../src/store/redis.js";
import { createStore, deleteAllKeys, type Store } from "../../src/store/store.js";

export const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";

/**
 * One benchmark section's private world: its own key prefix on the shared Redis and its own data and
 * export folders under the run's temporary folder. Everything is deleted by `dispose()`.
 */
export type World = {
  prefix: string;
  root: string;
  dataDir: string;
  exportDir: string;
  redis: Redis;
  store: Store;
  /** Environment for a `testimony` child process working in this world. */
  env(extra?: Record<string, string>): NodeJS.ProcessEnv;
  dispose(): Promise<void>;
};

/** Worlds not yet disposed, so an interrupted run can still delete its keys and folders. */
const open = new Set<World>();
export async function disposeAllWorlds(): Promise<void> {
  await Promise.all([...open].map((w) => w.dispose().catch(() => {})));
}

export async function openWorld(runId: string, runRoot: string, name: string): Promise<World> {
  const prefix = `${runId}-${name}`;
  const root = path.join(runRoot, name);
  const dataDir = path.join(root, "data");
  const exportDir = path.join(root, "exports");
  await mkdir(dataDir, { recursive: true });
  await mkdir(exportDir, { recursive: true });
  const redis = connectRedis(REDIS_URL, "command");
  redis.on("error", () => {});
  await redis.ping();
  const store = createStore(redis, prefix);
  let disposed = false;
  const world: World = {
    prefix,
    root,
    dataDir,
    exportDir,
    redis,
    store,
    env: (extra = {}) => ({
      ...process.env,
      REDIS_URL,
      KEY_PREFIX: prefix,
      DATA_DIR: dataDir,
      EXPORT_DIR: exportDir,
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      // No catch-up drop may fire while we measure: drops happen only when the bench asks.
      CATCH_UP_HOURS: "0",
      // The machine's development Redis keeps nothing on disk; the bench measures, it keeps no data.
      ALLOW_VOLATILE_REDIS: "1",
      ...extra,
    }),
    async dispose() {
      if (disposed) return;
      disposed = true;
      open.delete(world);
      await deleteAllKeys(redis, prefix).catch(() => 0);
      await redis.quit().catch(() => redis.disconnect());
      await rm(root, { recursive: true, force: true });
    },
  };
  open.add(world);
  return world;
}

/** A run id that is a valid KEY_PREFIX start and unique enough per run. */
export const newRunId = () => `bench-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;

export const newRunRoot = (runId: string) => path.join(os.tmpdir(), `testimony-${runId}`);
