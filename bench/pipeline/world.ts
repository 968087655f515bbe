import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Redis } from "ioredis";
import { connectRedis } from "../../src/store/redis.js";
import { createStore, deleteAllKeys, type Store } from "../../src/store/store.js";
import { freePort } from "./processes.js";
import { until } from "./stats.js";

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
  /** The Redis this world's children use: the shared one, or a private redis-server of its own. */
  redisUrl: string;
  /** Set when the world runs its own redis-server (its INFO counts only this world's work). */
  redisPid?: number;
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

/**
 * A redis-server of the world's own on a free loopback port, in the foreground as our child, no
 * persistence (like the machine's development Redis): its INFO commandstats and CPU then count only
 * what this world's processes ask of it, not other test runs sharing the machine's Redis.
 */
async function privateRedis(dir: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  // biome-ignore format: one flag and its value per line
  const child = spawn("redis-server", [
    "--port", String(port),
    "--bind", "127.0.0.1",
    "--dir", dir,
    "--save", "",
    "--appendonly", "no",
    "--daemonize", "no",
  ], { stdio: "ignore" });
  const url = `redis://127.0.0.1:${port}`;
  const probe = connectRedis(url, "command");
  probe.on("error", () => {});
  try {
    await until(`private redis-server on ${port}`, async () => (await probe.ping()) === "PONG", 15_000, 50);
  } finally {
    probe.disconnect();
  }
  return { url, child };
}

export async function openWorld(
  runId: string,
  runRoot: string,
  name: string,
  opts: { privateRedis?: boolean } = {},
): Promise<World> {
  const prefix = `${runId}-${name}`;
  const root = path.join(runRoot, name);
  const dataDir = path.join(root, "data");
  const exportDir = path.join(root, "exports");
  await mkdir(dataDir, { recursive: true });
  await mkdir(exportDir, { recursive: true });
  const own = opts.privateRedis ? await privateRedis(root) : undefined;
  const redisUrl = own?.url ?? REDIS_URL;
  const redis = connectRedis(redisUrl, "command");
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
    redisUrl,
    redisPid: own?.child.pid,
    store,
    env: (extra = {}) => ({
      ...process.env,
      REDIS_URL: redisUrl,
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
      if (own && own.child.exitCode === null) {
        const gone = new Promise((r) => own.child.once("exit", r));
        own.child.kill("SIGKILL");
        await gone;
      }
      await rm(root, { recursive: true, force: true });
    },
  };
  open.add(world);
  return world;
}

/** A run id that is a valid KEY_PREFIX start and unique enough per run. */
export const newRunId = () => `bench-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;

export const newRunRoot = (runId: string) => path.join(os.tmpdir(), `testimony-${runId}`);
