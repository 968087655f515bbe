import { type ConnectionOptions, type Job, UnrecoverableError, Worker } from "bullmq";
import { type RenderDeps, RenderFailure, renderOutput } from "../app/render.service.js";
import type { JobMap } from "../queues/queues.js";
import type { Keys } from "../store/keys.js";
import type { BlockingRedis } from "../store/redis.js";
import { type BackoffOptions, backOffOnRedisErrors } from "./redis-backoff.js";

/** Thin: parse the job, call the render use case, turn a permanent failure into UnrecoverableError. */
export function createRenderWorker(
  deps: RenderDeps,
  connection: BlockingRedis,
  keys: Keys,
  opts: { concurrency: number; lockDuration?: number; stalledInterval?: number; backoff?: BackoffOptions },
): Worker<JobMap["render"], string> {
  // Declared before the worker so the processor can use it; wired to the worker right after.
  let pacer: ReturnType<typeof backOffOnRedisErrors>;
  const worker = new Worker<JobMap["render"], string>(
    "render",
    async (job: Job<JobMap["render"], string>) => {
      const log = deps.log.child({ jobId: job.id });
      const attempt = {
        number: job.attemptsMade + 1,
        final: job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
      };
      try {
        // The use case logs what happened to the output (with its campaign); this line adds the job.
        return await renderOutput({ ...deps, log }, job.data.outputId, attempt);
      } catch (err) {
        if (err instanceof RenderFailure) throw new UnrecoverableError(`${err.reason}: ${err.message}`);
        // Redis trouble pauses the worker and is logged once per interval, not once per job.
        if (!pacer.jobFailed(err))
          log.error({ err, outputId: job.data.outputId, attempt: attempt.number }, "render attempt failed");
        throw err;
      }
    },
    {
      connection: connection as ConnectionOptions,
      prefix: keys.bullPrefix,
      concurrency: opts.concurrency,
      // Only when given: an explicit undefined would override BullMQ's defaults.
      ...(opts.lockDuration ? { lockDuration: opts.lockDuration } : {}),
      ...(opts.stalledInterval ? { stalledInterval: opts.stalledInterval } : {}),
    },
  );
  pacer = backOffOnRedisErrors(worker, deps.log, "render worker", opts.backoff);
  return worker;
}
