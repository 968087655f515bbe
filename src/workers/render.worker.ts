import { type ConnectionOptions, type Job, UnrecoverableError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { type RenderDeps, RenderFailure, renderOutput } from "../app/render.service.js";
import type { JobMap } from "../queues/queues.js";
import type { Keys } from "../store/keys.js";

/** Thin: parse the job, call the render use case, turn a permanent failure into UnrecoverableError. */
export function createRenderWorker(
  deps: RenderDeps,
  connection: Redis,
  keys: Keys,
  opts: { concurrency: number; lockDuration?: number; stalledInterval?: number },
): Worker<JobMap["render"], string> {
  const worker = new Worker<JobMap["render"], string>(
    "render",
    async (job: Job<JobMap["render"], string>) => {
      const log = deps.log.child({ jobId: job.id, outputId: job.data.outputId });
      const attempt = {
        number: job.attemptsMade + 1,
        final: job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
      };
      try {
        const result = await renderOutput(deps, job.data.outputId, attempt);
        log.info({ result, attempt: attempt.number }, "render done");
        return result;
      } catch (err) {
        if (err instanceof RenderFailure) {
          log.warn({ reason: err.reason, attempt: attempt.number }, "render failed for good");
          throw new UnrecoverableError(`${err.reason}: ${err.message}`);
        }
        log.error({ err, attempt: attempt.number }, "render attempt failed");
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
  worker.on("error", (err) => deps.log.error({ err }, "render worker error"));
  return worker;
}
