import { type ConnectionOptions, type Job, UnrecoverableError, Worker } from "bullmq";
import { type DeliverDeps, DeliveryFailure, deliver } from "../app/deliver.service.js";
import type { JobMap } from "../queues/queues.js";
import type { Keys } from "../store/keys.js";
import type { BlockingRedis } from "../store/redis.js";
import { type BackoffOptions, backOffOnRedisErrors } from "./redis-backoff.js";

/**
 * Thin: one delivery job is one event to one target. A permanent failure (a wrong secret, a removed
 * target) stops at once; anything else is retried after backoffMs, doubled per attempt.
 */
export function createDeliverWorker(
  deps: DeliverDeps,
  connection: BlockingRedis,
  keys: Keys,
  opts: { backoffMs: number; concurrency?: number; backoff?: BackoffOptions },
): Worker<JobMap["deliver"], string> {
  const worker = new Worker<JobMap["deliver"], string>(
    "deliver",
    async (job: Job<JobMap["deliver"], string>) => {
      const attempt = {
        number: job.attemptsMade + 1,
        final: job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
      };
      try {
        return await deliver({ ...deps, log: deps.log.child({ jobId: job.id }) }, job.data, attempt);
      } catch (err) {
        if (err instanceof DeliveryFailure && err.permanent) throw new UnrecoverableError(err.message);
        throw err;
      }
    },
    {
      connection: connection as ConnectionOptions,
      prefix: keys.bullPrefix,
      // Deliveries wait on other people's servers: a few at once, each with its own deadline.
      concurrency: opts.concurrency ?? 4,
      settings: {
        backoffStrategy: (attemptsMade: number) => opts.backoffMs * 2 ** Math.max(0, attemptsMade - 1),
      },
    },
  );
  backOffOnRedisErrors(worker, deps.log, "deliver worker", opts.backoff);
  return worker;
}
