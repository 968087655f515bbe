import { type ConnectionOptions, type Job, UnrecoverableError, Worker } from "bullmq";
import { type ExportDeps, exportSlot } from "../app/export.service.js";
import { AppError } from "../domain/errors.js";
import type { JobMap } from "../queues/queues.js";
import type { Keys } from "../store/keys.js";
import type { BlockingRedis } from "../store/redis.js";
import { type BackoffOptions, backOffOnRedisErrors } from "./redis-backoff.js";

/** Thin: one export job is one campaign slot; conflicts retry, a missing campaign does not. */
export function createExportWorker(
  deps: ExportDeps,
  connection: BlockingRedis,
  keys: Keys,
  opts: { backoff?: BackoffOptions } = {},
): Worker<JobMap["export"], string> {
  const worker = new Worker<JobMap["export"], string>(
    "export",
    async (job: Job<JobMap["export"], string>) => {
      const log = deps.log.child({ jobId: job.id, campaignId: job.data.campaignId, slot: job.data.slot });
      try {
        const result = await exportSlot(deps, {
          campaignId: job.data.campaignId,
          slot: new Date(job.data.slot),
          actor: job.data.actor,
        });
        log.info({ status: result.status }, "export done");
        return result.status;
      } catch (err) {
        if (err instanceof AppError && err.code === "not_found") throw new UnrecoverableError(err.message);
        log.error({ err }, "export attempt failed");
        throw err;
      }
    },
    // One export at a time per process: bundles are I/O bound and must not race each other's reservations.
    { connection: connection as ConnectionOptions, prefix: keys.bullPrefix, concurrency: 1 },
  );
  backOffOnRedisErrors(worker, deps.log, "export worker", opts.backoff);
  return worker;
}
