import type { Worker } from "bullmq";
import { startDeliveryRelay } from "./app/deliver.service.js";
import { recoverDrops } from "./app/export.service.js";
import type { Config } from "./config.js";
import { AppError } from "./domain/errors.js";
import { persistenceVerdict } from "./domain/persistence.js";
import { closeRedis, type Owner } from "./lifecycle/owner.js";
import type { Logger } from "./logger.js";
import { closeQueues, createQueues, type Queues } from "./queues/queues.js";
import { loadTextTemplates, type TextTemplates } from "./render/text/text.render.js";
import { createStorage } from "./storage/index.js";
import { readPersistence } from "./store/persistence.js";
import {
  type BlockingRedis,
  type CommandRedis,
  connectRedis,
  printableRedisUrl,
  REDIS_DEADLINE_MS,
  reachRedis,
  warnUnlessNoEviction,
} from "./store/redis.js";
import { createStore, type Store } from "./store/store.js";
import { createDeliverWorker } from "./workers/deliver.worker.js";
import { createExportWorker } from "./workers/export.worker.js";
import { createRenderWorker } from "./workers/render.worker.js";

/** The roles' shared parts: one command connection, queues, templates; each worker on a connection of its own. */
export type Runtime = {
  config: Config;
  log: Logger;
  redis: CommandRedis;
  store: Store;
  queues: Queues;
  templates: TextTemplates;
  /** A new blocking connection (BullMQ consumers, QueueEvents), closed by the runtime's owner. */
  blockingConnection(purpose: string): BlockingRedis;
  startRenderWorker(concurrency: number): Worker;
  startExportWorker(): Worker;
  /** Deliveries to campaign targets, and the relay that raises their events from the audit stream. */
  startDeliverWorker(): Worker;
};

/**
 * Opens the runtime's parts and registers each with `owner`, which closes them last-in-first-out.
 * Nothing here waits for Redis: one-shot commands call `reachRedis` (fail within the deadline); the
 * long-running roles call `waitForRedis` (retry until it answers, logging one line per attempt).
 */
export function openRuntime(
  config: Config,
  log: Logger,
  owner: Owner,
  opts: { reconnect: boolean; redis?: CommandRedis },
): Runtime {
  const redis =
    opts.redis ??
    owner.own(
      "redis (commands)",
      connectRedis(config.redisUrl, "command", { reconnect: opts.reconnect }),
      closeRedis,
    );
  // Errors surface through the failing call (CLI) or /health and the retry log (roles); never unhandled.
  redis.on("error", () => {});
  const store = createStore(redis, config.keyPrefix);
  const queues = owner.own("queues", createQueues(redis, store.keys), closeQueues);
  for (const q of Object.values(queues)) q.on("error", () => {});
  const templates = loadTextTemplates();
  // Blob storage (issue 15): DATA_DIR/EXPORT_DIR on disk, or the S3 bucket STORAGE_URL names.
  const storage = createStorage(config);

  const blockingConnection = (purpose: string): BlockingRedis => {
    const conn = owner.own(`redis (${purpose})`, connectRedis(config.redisUrl, "worker"), closeRedis);
    conn.on("error", () => {}); // BullMQ reports its own connection errors on the worker
    return conn;
  };
  /** Workers finish the job in hand up to a deadline; an unfinished job comes back as stalled. */
  const ownWorker = (name: string, w: Worker) =>
    owner.own(name, w, async (worker) => {
      const drained = await Promise.race([
        worker.close().then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 20_000).unref()),
      ]);
      if (!drained) {
        log.warn(
          { worker: name },
          "worker did not finish in time; its job will be picked up again as stalled",
        );
        await worker.close(true);
      }
    });

  return {
    config,
    log,
    redis,
    store,
    queues,
    templates,
    blockingConnection,
    startRenderWorker(concurrency) {
      const conn = blockingConnection("render worker");
      // The worker's own store shares its resilient connection, so a Redis restart is ridden out.
      const workerStore = createStore(conn, config.keyPrefix);
      return ownWorker(
        "render worker",
        createRenderWorker(
          { store: workerStore, dataDir: config.dataDir, files: storage.files, templates, log },
          conn,
          store.keys,
          // Renders take tens of milliseconds: a 10 s lock (renewed every 5 s while a render runs) brings
          // back a job whose worker died, or whose completion a Redis restart swallowed, within ~15 s.
          { concurrency, lockDuration: 10_000, stalledInterval: 5_000 },
        ),
      );
    },
    startExportWorker() {
      const conn = blockingConnection("export worker");
      const deps = {
        store: createStore(conn, config.keyPrefix),
        dataDir: config.dataDir,
        exportDir: config.exportDir,
        ...storage,
        log,
        deliver: queues.deliver,
      };
      // Drops a crashed exporter left unfinished are completed or released before new ones run.
      void recoverDrops({ ...deps, store }, "export-worker")
        .then((found) => {
          if (found.length)
            log.info({ recovered: found }, `recovered ${found.length} unfinished drop(s) at start`);
        })
        .catch((err) =>
          log.warn(
            { err: (err as Error).message },
            "recovering unfinished drops failed; the next drop retries",
          ),
        );
      return ownWorker("export worker", createExportWorker(deps, conn, store.keys));
    },
    startDeliverWorker() {
      const conn = blockingConnection("deliver worker");
      const workerStore = createStore(conn, config.keyPrefix);
      const worker = ownWorker(
        "deliver worker",
        createDeliverWorker(
          {
            store: workerStore,
            exportDir: config.exportDir,
            bundles: storage.bundles,
            log,
            publicUrl: config.publicUrl,
            namedSecret: config.namedSecret,
          },
          conn,
          store.keys,
          { backoffMs: config.deliverBackoffMs },
        ),
      );
      // Closed before the worker (last in, first out): no new jobs once shutdown begins.
      owner.own(
        "delivery relay",
        startDeliveryRelay({ store: workerStore, queue: queues.deliver, log }),
        (r) => r.close(),
      );
      return worker;
    },
  };
}

/**
 * For the long-running roles: waits until Redis answers, logging one line per attempt with the reason
 * and the next delay (1 s doubling to 30 s), so a supervisor's log shows why nothing happens yet.
 * Resolves false when `signal` aborts first (shutdown while waiting).
 */
export async function waitForRedis(rt: Runtime, signal: AbortSignal): Promise<boolean> {
  const url = printableRedisUrl(rt.config.redisUrl);
  for (let attempt = 1, delay = 1000; !signal.aborted; attempt++, delay = Math.min(delay * 2, 30_000)) {
    try {
      await reachRedis(rt.redis, rt.config.redisUrl, REDIS_DEADLINE_MS);
      if (attempt > 1) rt.log.info({ redis: url, attempts: attempt }, "Redis answers: starting");
      await warnUnlessNoEviction(rt.redis, rt.log);
      await requireDurableRedis(rt);
      return true;
    } catch (err) {
      if (err instanceof AppError && err.code !== "unavailable") throw err;
      rt.log.warn(
        { redis: url, attempt, retryInMs: delay },
        `${(err as Error).message.split(". Start")[0]}; retrying in ${delay / 1000} s`,
      );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, delay);
        function done() {
          clearTimeout(timer);
          signal.removeEventListener("abort", done);
          resolve();
        }
        signal.addEventListener("abort", done);
      });
    }
  }
  return false;
}

/**
 * States the persistence found, and refuses a Redis without AOF (a restart would lose approvals and
 * consent withdrawals) unless ALLOW_VOLATILE_REDIS=1 says it is volatile on purpose.
 */
async function requireDurableRedis(rt: Runtime): Promise<void> {
  const verdict = persistenceVerdict(await readPersistence(rt.redis), {
    allowVolatile: rt.config.allowVolatileRedis,
  });
  if (verdict.level === "refuse") throw new AppError("invalid_state", verdict.message);
  if (verdict.level === "warn") rt.log.warn(verdict.message);
  else rt.log.info(verdict.message);
}
