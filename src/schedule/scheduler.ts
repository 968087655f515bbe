import type { Campaign } from "../domain/campaign.js";
import type { Logger } from "../logger.js";
import type { Queues } from "../queues/queues.js";
import { createScheduleStore } from "../store/schedule.store.js";
import type { Store } from "../store/store.js";
import { type CampaignRunner, type RunnerDeps, startCampaignRunner } from "./campaign-runner.js";
import { createSlotEnqueuer } from "./slot-enqueuer.js";

export type SchedulerDeps = {
  store: Store;
  queues: Queues;
  log: Logger;
  /** At start, the latest slot missed within this many hours is enqueued once (older ones never). */
  catchUpHours: number;
  /** How often campaigns are re-read for changes (default 5000 ms). */
  reloadMs?: number;
  /** How often every campaign is swept for slots node-cron skipped (default 60000 ms). */
  sweepMs?: number;
  now?: () => Date;
};

export type Scheduler = { close(): Promise<void>; reload(): Promise<void> };

const LEASE_MS = 60_000;
const WEEK_S = 7 * 24 * 3600;

/** `runner` is missing while starting failed (retried at the next reload); `started`: ever ran here. */
type Entry = { signature: string; runner?: CampaignRunner; started: boolean };

const signatureOf = (c: Campaign) =>
  JSON.stringify([c.schedule.cron, c.schedule.timeZone, c.paused, c.updatedAt]);

/**
 * Export scheduling for every campaign: one node-cron task per active campaign, firing export jobs
 * for its slots. Any number of schedulers may run against one Redis; each slot still gets one job
 * (see slot-enqueuer.ts). Campaign changes are picked up by polling (and `reload()`).
 */
export async function startScheduler(deps: SchedulerDeps): Promise<Scheduler> {
  const log = deps.log.child({ role: "scheduler" });
  const now = deps.now ?? (() => new Date());
  const catchUpMs = deps.catchUpHours * 3600_000;
  const schedule = createScheduleStore(deps.store.redis, deps.store.keys);
  const inFlight = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>) => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };
  const runnerDeps: RunnerDeps = {
    enqueue: createSlotEnqueuer({
      schedule,
      queue: deps.queues.export,
      log,
      leaseMs: LEASE_MS,
      // Longer than the catch-up window and than BullMQ keeps an export job (30 days).
      ttlSeconds: Math.max(5 * WEEK_S, Math.ceil(catchUpMs / 1000) + WEEK_S),
    }),
    schedule,
    log,
    now,
    catchUpMs,
    lookbackMs: 2 * LEASE_MS,
    track,
  };

  const entries = new Map<string, Entry>();
  let closed = false;

  // Reloads and sweeps run one at a time, so a campaign never has two runners.
  let chain: Promise<void> = Promise.resolve();
  const serial = (work: () => Promise<void>): Promise<void> => {
    const run = chain.then(() => (closed ? undefined : work()));
    chain = run.catch(() => undefined);
    return run;
  };

  async function sync(): Promise<void> {
    const campaigns = await deps.store.campaigns.list();
    const seen = new Set<string>();
    for (const c of campaigns) {
      seen.add(c.id);
      const signature = signatureOf(c);
      const entry = entries.get(c.id);
      if (entry?.runner && entry.signature === signature) continue;
      entry?.runner?.stop();
      const changed = entry?.started ?? false;
      // First seen: nothing before the campaign existed; changed: nothing before the change.
      const since = new Date(changed ? c.updatedAt : c.createdAt);
      const next: Entry = { signature, started: changed };
      entries.set(c.id, next);
      try {
        next.runner = await startCampaignRunner(c, since, runnerDeps);
        next.started = true;
        if (changed) log.info({ campaignId: c.id, paused: c.paused }, "campaign changed: schedule reloaded");
      } catch (err) {
        // One bad campaign (or a Redis hiccup) must not stop the others; the next reload retries it.
        log.error({ err, campaignId: c.id }, "could not schedule campaign; retrying at the next reload");
      }
    }
    for (const [id, entry] of entries) {
      if (seen.has(id)) continue;
      entry.runner?.stop();
      entries.delete(id);
      log.info({ campaignId: id }, "campaign gone: schedule removed");
    }
  }

  async function sweepAll(): Promise<void> {
    // Re-read first: a sweep must not record slots as passed for a campaign resumed a moment ago.
    await sync();
    for (const [campaignId, entry] of entries) {
      try {
        await entry.runner?.sweep();
      } catch (err) {
        log.error({ err, campaignId }, "sweep failed");
      }
    }
  }

  const reload = () => serial(sync);

  try {
    await reload();
  } catch (err) {
    closed = true;
    for (const entry of entries.values()) entry.runner?.stop();
    throw err;
  }
  // A tick is skipped while the previous one of its kind is still queued, so a slow Redis cannot
  // pile up reloads behind each other.
  // After a failure (Redis out of memory or gone), ticks are skipped for 2, 4, 8 ... up to 32 intervals
  // (at most 5 minutes): one log line per attempt, with how many failed in a row.
  const every = (ms: number, what: string, work: () => Promise<void>) => {
    let busy = false;
    let failures = 0;
    let notBefore = 0;
    return setInterval(() => {
      if (busy || Date.now() < notBefore) return;
      busy = true;
      work()
        .then(() => {
          if (failures > 0) log.info({ failures }, `${what} works again`);
          failures = 0;
          notBefore = 0;
        })
        .catch((err: unknown) => {
          failures++;
          const backoffMs = Math.min(300_000, ms * 2 ** Math.min(failures, 5));
          notBefore = Date.now() + backoffMs;
          log.error({ err, failures, retryInMs: backoffMs }, `${what} failed; backing off`);
        })
        .finally(() => {
          busy = false;
        });
    }, ms);
  };
  const reloadTimer = every(deps.reloadMs ?? 5000, "campaign reload", reload);
  const sweepTimer = every(deps.sweepMs ?? 60_000, "sweep", () => serial(sweepAll));
  log.info({ campaigns: entries.size, catchUpHours: deps.catchUpHours }, "scheduler started");

  return {
    reload,
    async close() {
      if (closed) return;
      closed = true; // queued reloads and sweeps that have not started yet are dropped
      clearInterval(reloadTimer);
      clearInterval(sweepTimer);
      await chain;
      for (const entry of entries.values()) entry.runner?.stop();
      entries.clear();
      await Promise.allSettled([...inFlight]);
      log.info("scheduler stopped");
    },
  };
}
