import { type ConnectionOptions, type JobsOptions, Queue, QueueEvents } from "bullmq";
import type { Redis } from "ioredis";
import type { Keys } from "../store/keys.js";
import type { BlockingRedis } from "../store/redis.js";

/** One typed map of queue names to job payloads, used when adding and when handling. Ids only. */
export type JobMap = {
  render: { outputId: string };
  export: { campaignId: string; slot: string; actor: string };
};
export type QueueName = keyof JobMap;

export const JOB_DEFAULTS: Record<QueueName, JobsOptions> = {
  // Permanent failures (cannot_fit, redaction, ...) stop at once (UnrecoverableError); anything else (a
  // full disk, Redis refusing writes) is retried after 2, 4, 8 and 16 s before the output becomes failed.
  render: {
    attempts: 5,
    backoff: { type: "exponential", delay: 2000 },
    removeOnComplete: { count: 5000, age: 7 * 24 * 3600 },
    removeOnFail: { count: 5000, age: 30 * 24 * 3600 },
  },
  export: {
    attempts: 5,
    backoff: { type: "exponential", delay: 2000 },
    removeOnComplete: { count: 1000, age: 30 * 24 * 3600 },
    removeOnFail: { count: 1000, age: 30 * 24 * 3600 },
  },
};

export type Queues = { [N in QueueName]: Queue<JobMap[N]> };

/** Producers share the caller's fail-fast connection; BullMQ duplicates it where it must block. */
export function createQueues(connection: Redis, keys: Keys): Queues {
  const opts = { connection: connection as ConnectionOptions, prefix: keys.bullPrefix };
  return {
    render: new Queue<JobMap["render"]>("render", { ...opts, defaultJobOptions: JOB_DEFAULTS.render }),
    export: new Queue<JobMap["export"]>("export", { ...opts, defaultJobOptions: JOB_DEFAULTS.export }),
  };
}

/** QueueEvents block on a stream: they need a blocking connection of their own, closed by its owner. */
export function createQueueEvents(name: QueueName, connection: BlockingRedis, keys: Keys): QueueEvents {
  return new QueueEvents(name, {
    connection: connection as ConnectionOptions,
    prefix: keys.bullPrefix,
  });
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.all(Object.values(queues).map((q) => q.close()));
}

/** Export job ids: one per campaign and slot, so every scheduler that fires for the slot adds the same job. */
export const exportJobId = (campaignId: string, slot: Date) =>
  `export-${campaignId}-${Math.floor(slot.getTime() / 1000)}`;
