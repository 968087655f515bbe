import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Redis } from "ioredis";
import { connectRedis } from "../../src/store/redis.js";
import { createStore, type Store } from "../../src/store/store.js";
import { RedisProcess } from "./redis-process.js";

export const PREFIX = "drill";

export type World = {
  redis: RedisProcess;
  root: string;
  dataDir: string;
  exportDir: string;
  logDir: string;
  /** The drill's own observer connection: retries forever, so it rides out the drill's Redis restarts. */
  conn: Redis;
  store: Store;
  /** Environment for a `testimony` child process pointed at this world. */
  env(extra?: Record<string, string>): NodeJS.ProcessEnv;
  dispose(): Promise<void>;
};

/** A Redis of the drill's own plus temp data, export and log dirs; dispose() removes all of it. */
export async function openWorld(
  name: string,
  opts: { appendfsync?: "always" | "everysec" } = {},
): Promise<World> {
  const redis = await RedisProcess.create({ name, appendfsync: opts.appendfsync });
  const root = await mkdtemp(path.join(tmpdir(), `tm-drill-${name}-`));
  const [dataDir, exportDir, logDir] = ["data", "exports", "logs"].map((d) => path.join(root, d)) as [
    string,
    string,
    string,
  ];
  for (const d of [dataDir, exportDir, logDir]) await mkdir(d, { recursive: true });
  try {
    await redis.start();
  } catch (err) {
    await redis.dispose();
    await rm(root, { recursive: true, force: true });
    throw err;
  }
  const conn = connectRedis(redis.url, "worker");
  conn.on("error", () => {}); // expected while the drill has Redis down
  const store = createStore(conn, PREFIX);
  return {
    redis,
    root,
    dataDir,
    exportDir,
    logDir,
    conn,
    store,
    env: (extra = {}) => ({
      REDIS_URL: redis.url,
      KEY_PREFIX: PREFIX,
      DATA_DIR: dataDir,
      EXPORT_DIR: exportDir,
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      CATCH_UP_HOURS: "0",
      ...extra,
    }),
    async dispose() {
      conn.disconnect();
      if (process.env.DRILL_KEEP) {
        await redis.kill().catch(() => {});
        process.stdout.write(`  (DRILL_KEEP: left ${root} and ${redis.dir})\n`);
        return;
      }
      await redis.dispose();
      await rm(root, { recursive: true, force: true });
    },
  };
}
