import type { Logger } from "../logger.js";
import { exportJobId, type Queues } from "../queues/queues.js";
import type { ScheduleStore } from "../store/schedule.store.js";

export type SlotReason = "cron" | "sweep" | "catch-up";

export type SlotEnqueuerDeps = {
  schedule: ScheduleStore;
  queue: Queues["export"];
  log: Logger;
  /** How long a claim holds before another scheduler may retry the slot. */
  leaseMs: number;
  /** How long a done slot is remembered; longer than any export job is kept. */
  ttlSeconds: number;
};

/**
 * Enqueues export jobs for slots, once each across every scheduler on the Redis: claim the slot
 * (SET NX with a lease), add the job under its deterministic id, then mark the slot done. A
 * scheduler that loses the claim does nothing; one that fails to add releases the claim, and the
 * next sweep retries. The job id alone would not do: BullMQ takes a removed job's id again.
 */
export function createSlotEnqueuer(deps: SlotEnqueuerDeps) {
  return async function enqueue(campaignId: string, slots: Date[], reason: SlotReason): Promise<Date[]> {
    if (slots.length === 0) return [];
    const won = await deps.schedule.claim(campaignId, slots, deps.leaseMs);
    const added: Date[] = [];
    for (const slot of won) {
      const jobId = exportJobId(campaignId, slot);
      const at = { campaignId, slot: slot.toISOString(), jobId, reason };
      try {
        await deps.queue.add(
          "export",
          { campaignId, slot: slot.toISOString(), actor: "scheduler" },
          { jobId },
        );
        await deps.schedule.done(campaignId, slot, deps.ttlSeconds);
        added.push(slot);
        deps.log.info(at, "export job enqueued");
      } catch (err) {
        deps.log.error({ ...at, err }, "could not enqueue the export job; a later sweep retries the slot");
        await deps.schedule.release(campaignId, slot).catch(() => undefined);
      }
    }
    return added;
  };
}
export type SlotEnqueuer = ReturnType<typeof createSlotEnqueuer>;
