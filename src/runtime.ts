import type { Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Config } from "./config.js";
import type { Logger } from "./logger.js";
import { closeQueues, createQueues, type Queues } from "./queues/queues.js";
import { loadTextTemplates, type TextTemplates } from "./render/text/text.render.js";
import { connectRedis, warnUnlessNoEviction } from "./store/redis.js";
import { createStore, type Store } from "./store/store.js";
import { createExportWorker } from "./workers/export.worker.js";
import { createRenderWorker } from "./workers/render.worker.js";

/** The long-running roles' shared parts: one command connection, queues, templates; workers on their own. */
export type Runtime = {
  config: Config;
  log: Logger;
  redis: Redis;
  store: Store;
  queues: Queues;
  templates: TextTemplates;
  workers: Worker[];
  startRenderWorker(concurrency: number): Worker;
  startExportWorker(): Worker;
  close(deadlineMs?: number): Promise<void>;
};

export async function openRuntime(config: Config, log: Logger): Promise<Runtime> {
  const redis = connectRedis(config.redisUrl, "command");
  redis.on("error", (err) => log.warn({ err: err.message }, "redis connection error"));
  await redis.ping();
  await warnUnlessNoEviction(redis, log);
  const store = createStore(redis, config.keyPrefix);
  const queues = createQueues(redis, store.keys);
  const templates = loadTextTemplates();
  const workers: Worker[] = [];
  const workerConnections: Redis[] = [];

  const workerConnection = () => {
    const conn = connectRedis(config.redisUrl, "worker");
    conn.on("error", (err) => log.warn({ err: err.message }, "worker redis connection error"));
    workerConnections.push(conn);
    return conn;
  };

  const runtime: Runtime = {
    config,
    log,
    redis,
    store,
    queues,
    templates,
    workers,
    startRenderWorker(concurrency) {
      const conn = workerConnection();
      // The worker's own store shares its resilient connection, so a Redis restart is ridden out.
      const workerStore = createStore(conn, config.keyPrefix);
      const w = createRenderWorker(
        { store: workerStore, dataDir: config.dataDir, templates, log },
        conn,
        store.keys,
        // Renders take tens of milliseconds: a 10 s lock (renewed every 5 s while a render runs) brings
        // back a job whose worker died, or whose completion a Redis restart swallowed, within ~15 s.
        { concurrency, lockDuration: 10_000, stalledInterval: 5_000 },
      );
      workers.push(w);
      return w;
    },
    startExportWorker() {
      const conn = workerConnection();
      const deps = {
        store: createStore(conn, config.keyPrefix),
        dataDir: config.dataDir,
        exportDir: config.exportDir,
        log,
      };
      const w = createExportWorker(deps, conn, store.keys);
      workers.push(w);
      return w;
    },
    /** Workers finish their jobs in flight (up to the deadline), then everything closes. */
    async close(deadlineMs = 20_000) {
      const closing = Promise.all(workers.map((w) => w.close()));
      const timedOut = await Promise.race([
        closing.then(() => false),
        new Promise<boolean>((r) => setTimeout(() => r(true), deadlineMs).unref()),
      ]);
      if (timedOut) {
        log.warn(
          { deadlineMs },
          "workers did not finish in time; their jobs will be picked up again as stalled",
        );
        await Promise.all(workers.map((w) => w.close(true)));
      }
      await closeQueues(queues);
      for (const c of workerConnections) await c.quit().catch(() => c.disconnect());
      await redis.quit().catch(() => redis.disconnect());
    },
  };
  return runtime;
}
