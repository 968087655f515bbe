import { type ConnectionOptions, type JobsOptions, Queue, QueueEvents } from "bullmq";
import type { Redis } from "ioredis";
import type { Keys } from "../store/keys.js";
import type { BlockingRedis } from "../store/redis.js";

/** One typed map of queue names to job payloads, used when adding and when handling. Ids only. */
export type JobMap = {
  render: { outputId: string };
  export: { campaignId: string; slot: string; actor: string };
  /**
   * One delivery of one event to one target (src/app/deliver.service.ts). `subject`: the bundle id
   * (bundle.dropped), the output id (output.failed) or the audit entry (takedowns.pending); `seq`: the
   * audit entry that raised it; `outputIds`: the takedowns it announces.
   */
  deliver: {
    event: "bundle.dropped" | "takedowns.pending" | "output.failed";
    campaignId: string;
    targetId: string;
    subject: string;
    seq?: string;
    outputIds?: string[];
  };
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
  // Retried with exponential backoff: DELIVER_BACKOFF_MS doubled per attempt (the worker's
  // backoffStrategy: 10 s, 20 s ... about 21 min before the 8th and last). Each attempt is recorded.
  deliver: {
    attempts: 8,
    backoff: { type: "deliver" },
    removeOnComplete: { count: 5000, age: 30 * 24 * 3600 },
    removeOnFail: { count: 5000, age: 30 * 24 * 3600 },
  },
};

export type Queues = { [N in QueueName]: Queue<JobMap[N]> };

/** Producers share the caller's fail-fast connection; BullMQ duplicates it where it must block. */
export function createQueues(connection: Redis, keys: Keys): Queues {
  const opts = { connection: connection as ConnectionOptions, prefix: keys.bullPrefix };
  return {
    render: new Queue<JobMap["render"]>("render", { ...opts, defaultJobOptions: JOB_DEFAULTS.render }),
    export: new Queue<JobMap["export"]>("export", { ...opts, defaultJobOptions: JOB_DEFAULTS.export }),
    deliver: new Queue<JobMap["deliver"]>("deliver", { ...opts, defaultJobOptions: JOB_DEFAULTS.deliver }),
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

/** Delivery job ids: one per event and target, so a delivery happens once however often it is enqueued. */
export const deliverJobId = (d: Pick<JobMap["deliver"], "event" | "subject" | "targetId" | "seq">) =>
  d.event === "bundle.dropped"
    ? `deliver-${d.subject}-${d.targetId}`
    : `deliver-${d.event.replace(".", "_")}-${d.subject}-${d.seq ?? "0"}-${d.targetId}`;
