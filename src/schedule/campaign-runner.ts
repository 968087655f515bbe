import { createTask, type ScheduledTask } from "node-cron";
import type { Campaign } from "../domain/campaign.js";
import type { Logger } from "../logger.js";
import type { ScheduleStore } from "../store/schedule.store.js";
import type { SlotEnqueuer } from "./slot-enqueuer.js";
import { canonicalSlot, latestSlotAtOrBefore, slotsBetween } from "./slots.js";

export type RunnerDeps = {
  enqueue: SlotEnqueuer;
  schedule: ScheduleStore;
  log: Logger;
  now: () => Date;
  catchUpMs: number;
  /** Sweeps look this far behind their previous run, to retry slots a dead peer left pending. */
  lookbackMs: number;
  /** Runs a piece of async work and keeps it tracked until it settles, so close() can wait for it. */
  track: (work: Promise<unknown>) => void;
};

export type CampaignRunner = { sweep(): Promise<void>; stop(): void };

/** The latest of the dates given (an undefined or invalid one is ignored). */
const max = (...dates: (Date | undefined)[]) =>
  new Date(Math.max(...dates.map((d) => d?.getTime() ?? Number.NaN).filter((t) => !Number.isNaN(t))));

/**
 * One campaign on one scheduler. Active: catch up once, then a node-cron task per campaign plus
 * minute sweeps for what node-cron skips (DST gap days, the second pass of a repeated hour, firings
 * missed while the event loop was busy). Paused: no task; sweeps record slots as passed so that
 * resuming the campaign does not export a drop from the paused time.
 *
 * `since`: no slot at or before it is ever enqueued by this runner (the campaign's creation, or the
 * change that (re)started the runner), so an edited schedule never applies to the time before the edit.
 */
export async function startCampaignRunner(
  campaign: Campaign,
  since: Date,
  deps: RunnerDeps,
): Promise<CampaignRunner> {
  const { id: campaignId, schedule } = campaign;
  const { cron, timeZone } = schedule;
  const log = deps.log.child({ campaignId });

  if (campaign.paused) {
    const pass = async () => {
      const now = deps.now();
      const latest = latestSlotAtOrBefore(cron, timeZone, now, new Date(now.getTime() - deps.catchUpMs));
      if (latest) await deps.schedule.pass(campaignId, latest);
    };
    await pass();
    log.info({ cron, timeZone }, "campaign paused: no export jobs");
    return { sweep: pass, stop: () => undefined };
  }

  const started = deps.now();
  await catchUp(campaign, since, started, deps, log);

  let swept = started;
  const sweep = async () => {
    const now = deps.now();
    const from = max(started, new Date(swept.getTime() - deps.lookbackMs));
    const due = slotsBetween(cron, timeZone, from, now);
    const added = await deps.enqueue(campaignId, due, "sweep");
    if (added.length)
      log.info({ slots: added.map((s) => s.toISOString()) }, "sweep enqueued slots node-cron skipped");
    swept = now;
  };

  const task: ScheduledTask = createTask(
    cron,
    (ctx) => {
      const slot = canonicalSlot(cron, timeZone, ctx.date);
      deps.track(
        deps.enqueue(campaignId, [slot], "cron").catch((err) => {
          log.error({ err, slot: slot.toISOString() }, "scheduled firing failed; the next sweep retries");
        }),
      );
    },
    {
      timezone: timeZone,
      name: `export-${campaignId}-${Math.random().toString(36).slice(2)}`,
      logger: {
        info: (m) => log.debug(m),
        warn: (m) => log.warn(m),
        error: (m, err) => log.error({ err: err ?? m }, "node-cron error"),
        debug: (m) => log.debug({ detail: String(m) }, "node-cron"),
      },
    },
  );
  // Handled by the sweep; listening also silences node-cron's own console warning.
  task.on("execution:missed", (ctx) =>
    log.debug({ slot: ctx.date.toISOString() }, "node-cron missed a firing"),
  );
  await task.start();
  log.info({ cron, timeZone }, "campaign scheduled");

  return {
    sweep,
    stop: () => {
      void task.destroy();
    },
  };
}

/** The latest slot missed while no scheduler ran, once; older missed slots are not piled up. */
async function catchUp(campaign: Campaign, since: Date, now: Date, deps: RunnerDeps, log: Logger) {
  const last = await deps.schedule.lastSlot(campaign.id);
  const windowStart = new Date(now.getTime() - deps.catchUpMs);
  const from = max(last, windowStart, since);
  const missed = slotsBetween(campaign.schedule.cron, campaign.schedule.timeZone, from, now);
  const latest = missed[missed.length - 1];
  if (!latest) return;
  const added = await deps.enqueue(campaign.id, [latest], "catch-up");
  const older = missed.length - 1;
  const detail = {
    slot: latest.toISOString(),
    lastSlot: last?.toISOString(),
    olderMissed: older,
    windowStart: windowStart.toISOString(),
  };
  if (added.length === 0) {
    log.debug(detail, "catch-up: latest missed slot already handled by another scheduler");
    return;
  }
  log.info(
    detail,
    older > 0
      ? `catch-up: latest missed slot enqueued once; ${older} older missed slot(s) not enqueued`
      : "catch-up: missed slot enqueued once",
  );
}
