import { readFileSync } from "node:fs";
import type { Job, JobType } from "bullmq";
import type { Redis } from "ioredis";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Campaign, campaignInputSchema } from "../../src/domain/campaign.js";
import type { Logger } from "../../src/logger.js";
import { closeQueues, createQueues, exportJobId, type JobMap, type Queues } from "../../src/queues/queues.js";
import { type Scheduler, startScheduler } from "../../src/schedule/scheduler.js";
import { connectRedis } from "../../src/store/redis.js";
import { createScheduleStore } from "../../src/store/schedule.store.js";
import { createStore, type Store } from "../../src/store/store.js";
import { until } from "../support/poll.js";
import { REDIS_URL, testStore } from "../support/redis.js";

const ALL_STATES: JobType[] = [
  "waiting",
  "active",
  "completed",
  "failed",
  "delayed",
  "prioritized",
  "waiting-children",
];

const sample = JSON.parse(
  readFileSync(new URL("../../assets/sample/campaign.json", import.meta.url), "utf8"),
) as Record<string, unknown> & { brand: Record<string, unknown> };

function aCampaign(id: string, schedule: Campaign["schedule"], over: Partial<Campaign> = {}): Campaign {
  const { logo: _logo, ...brand } = sample.brand;
  const input = campaignInputSchema.parse({ ...sample, brand, id, schedule });
  const at = new Date().toISOString();
  return { ...input, createdAt: at, createdBy: "test", updatedAt: at, ...over };
}

type Line = { msg: string; campaignId?: string; slot?: string; reason?: string; olderMissed?: number };
function capturingLog(): { log: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const log = pino({ level: "debug" }, { write: (s: string) => void lines.push(JSON.parse(s) as Line) });
  return { log, lines };
}

/** One scheduler process: its own connection, store and Queue objects on the test's key prefix. */
type Instance = { redis: Redis; store: Store; queues: Queues };

/**
 * Fresh fixtures per test (as bullmq's own tests do): a key prefix of its own, and every scheduler,
 * connection and queue the test opened closed after it, so a test runs alone and in any order and no
 * scheduler of one test ever sees another's campaigns.
 */
function fixture() {
  const base = testStore("schedule");
  const instances: Instance[] = [];
  const schedulers: Scheduler[] = [];

  function instance(): Instance {
    const redis = connectRedis(REDIS_URL, "command");
    const store = createStore(redis, base.prefix);
    const inst = { redis, store, queues: createQueues(redis, store.keys) };
    instances.push(inst);
    return inst;
  }
  const checker = instance();

  async function start(
    inst: Instance,
    log: Logger,
    opts: { catchUpHours?: number; reloadMs?: number; sweepMs?: number; now?: () => Date },
  ) {
    const s = await startScheduler({
      store: inst.store,
      queues: inst.queues,
      log,
      catchUpHours: opts.catchUpHours ?? 1,
      reloadMs: opts.reloadMs ?? 200,
      sweepMs: opts.sweepMs,
      now: opts.now,
    });
    schedulers.push(s);
    return s;
  }

  async function save(...campaigns: Campaign[]) {
    await base.store.campaigns.commit({ writes: campaigns.map((c) => base.store.campaigns.write(c)) });
  }

  async function update(c: Campaign, change: Partial<Campaign>) {
    const previous = await base.store.campaigns.get(c.id);
    await base.store.campaigns.commit({
      writes: [base.store.campaigns.write({ ...c, ...change }, previous)],
    });
  }

  async function exportJobs(campaignId: string): Promise<Job<JobMap["export"]>[]> {
    const jobs = await checker.queues.export.getJobs(ALL_STATES, 0, -1);
    return jobs
      .filter((j) => j.data.campaignId === campaignId)
      .sort((a, b) => a.data.slot.localeCompare(b.data.slot));
  }

  /** Stops every scheduler started so far (they finish what they have in flight). */
  const stopSchedulers = () => Promise.all(schedulers.splice(0).map((s) => s.close()));

  async function close() {
    await stopSchedulers();
    for (const i of instances) {
      await closeQueues(i.queues);
      await i.redis.quit();
    }
    await base.cleanup();
  }

  return { checker, instance, start, save, update, exportJobs, stopSchedulers, close };
}

let f: ReturnType<typeof fixture>;
beforeEach(() => {
  f = fixture();
});
afterEach(() => f.close());

describe("scheduler", () => {
  it("two schedulers on one Redis: exactly one export job per slot; paused gets none; reload adds a new campaign", async () => {
    const every2 = aCampaign("every-two", { cron: "*/2 * * * * *", timeZone: "Europe/London" });
    const paused = aCampaign(
      "paused-two",
      { cron: "*/2 * * * * *", timeZone: "Europe/London" },
      { paused: true },
    );
    await f.save(every2, paused);

    const a = capturingLog();
    const b = capturingLog();
    await f.start(f.instance(), a.log, {});
    await f.start(f.instance(), b.log, {});
    // Saved after both started: only a reload (every 200 ms here) can pick it up.
    const later = aCampaign("added-later", { cron: "*/2 * * * * *", timeZone: "Asia/Baghdad" });
    await f.save(later);
    await until(
      "3 slots of every-two and 2 of added-later enqueued",
      async () => (await f.exportJobs(every2.id)).length >= 3 && (await f.exportJobs(later.id)).length >= 2,
      15_000,
      100,
    );
    await f.stopSchedulers();

    const enqueued = [...a.lines, ...b.lines].filter((l) => l.msg === "export job enqueued");
    for (const c of [every2, later]) {
      const jobs = await f.exportJobs(c.id);
      const slots = jobs.map((j) => new Date(j.data.slot));
      expect(slots.length).toBeGreaterThanOrEqual(c === every2 ? 3 : 2);
      // Every even second from the first slot to the last, none missing, none twice.
      for (let i = 1; i < slots.length; i++) expect(slots[i]!.getTime() - slots[i - 1]!.getTime()).toBe(2000);
      expect(slots[0]!.getTime()).toBeGreaterThan(new Date(c.createdAt).getTime());
      for (const j of jobs) {
        expect(j.id).toBe(exportJobId(c.id, new Date(j.data.slot)));
        expect(j.data.actor).toBe("scheduler");
        expect(j.name).toBe("export");
      }
      // Exactly once across both schedulers, not merely deduplicated by the job id.
      expect(enqueued.filter((l) => l.campaignId === c.id).map((l) => l.slot)).toHaveLength(jobs.length);
    }
    expect(await f.exportJobs(paused.id)).toHaveLength(0);
    // Both schedulers fired for the slots (they raced for them), yet each slot was enqueued once.
    expect(a.lines.some((l) => l.msg === "campaign scheduled" && l.campaignId === every2.id)).toBe(true);
    expect(b.lines.some((l) => l.msg === "campaign scheduled" && l.campaignId === every2.id)).toBe(true);

    // Removing the job does not make the slot free again: it is remembered as done.
    const [first] = await f.exportJobs(every2.id);
    await first!.remove();
    const schedule = createScheduleStore(f.checker.redis, f.checker.store.keys);
    expect(await schedule.claim(every2.id, [new Date(first!.data.slot)], 1000)).toEqual([]);
    expect(await schedule.slotState(every2.id, new Date(first!.data.slot))).toBe("done");
  }, 25_000);

  it("catch-up after downtime: only the latest missed slot, once, however many schedulers start", async () => {
    // Six months from the real one, so node-cron never fires these in real time during the test.
    const month = ((new Date().getUTCMonth() + 6) % 12) + 1;
    const cron = `0 * 5 ${month} *`; // hourly, on the 5th of that month
    const old = "2020-01-01T00:00:00.000Z";
    const at = (h: number, m = 0) => new Date(Date.UTC(2025, month - 1, 5, h, m));
    const iso = (h: number, m = 0) => at(h, m).toISOString();
    const handled = aCampaign("was-down", { cron, timeZone: "UTC" }, { createdAt: old, updatedAt: old });
    const fresh = aCampaign("never-ran", { cron, timeZone: "UTC" }, { createdAt: old, updatedAt: old });
    const pausedOne = aCampaign(
      "paused-down",
      { cron, timeZone: "UTC" },
      { createdAt: old, updatedAt: old, paused: true },
    );
    await f.save(handled, fresh, pausedOne);
    // Last handled slot 02:00; the schedulers were down until 06:30 (03, 04, 05, 06 missed).
    await createScheduleStore(f.checker.redis, f.checker.store.keys).done(handled.id, at(2), 3600);

    const now = () => at(6, 30);
    const a = capturingLog();
    const s1 = await f.start(f.instance(), a.log, { catchUpHours: 24, reloadMs: 60_000, now });
    const b = capturingLog();
    await f.start(f.instance(), b.log, { catchUpHours: 2, reloadMs: 60_000, now });

    const jobs = await f.exportJobs(handled.id);
    expect(jobs.map((j) => j.data.slot)).toEqual([at(6).toISOString()]);
    expect(jobs[0]!.id).toBe(exportJobId(handled.id, at(6)));
    const line = a.lines.find((l) => l.campaignId === handled.id && l.msg.startsWith("catch-up"));
    expect(line?.olderMissed).toBe(3);
    expect(line?.msg).toMatch(/3 older missed slot\(s\) not enqueued/);
    // No last slot: the catch-up window bounds it, and still only the latest is enqueued.
    expect((await f.exportJobs(fresh.id)).map((j) => j.data.slot)).toEqual([at(6).toISOString()]);
    expect(await f.exportJobs(pausedOne.id)).toHaveLength(0);

    // reload() picks up a campaign created meanwhile, without waiting for the poll.
    const added = aCampaign(
      "added-by-reload",
      { cron, timeZone: "UTC" },
      { createdAt: iso(5, 10), updatedAt: iso(5, 10) },
    );
    await f.save(added);
    await s1.reload();
    expect((await f.exportJobs(added.id)).map((j) => j.data.slot)).toEqual([at(6).toISOString()]);

    // Resuming a paused campaign does not export a slot from the paused time.
    await f.update(pausedOne, { paused: false, updatedAt: iso(5, 30) });
    await s1.reload();
    expect(a.lines.some((l) => l.campaignId === pausedOne.id && l.msg === "campaign scheduled")).toBe(true);
    expect(await f.exportJobs(pausedOne.id)).toHaveLength(0);
  });

  it("a drop inside the DST gap, which node-cron skips, is enqueued by the sweep at the gap's end", async () => {
    // March only: node-cron fires it in real time only if the test runs at 02:30:00 New York time in March.
    const old = "2020-01-01T00:00:00.000Z";
    const gap = aCampaign(
      "dst-gap",
      { cron: "30 2 * 3 *", timeZone: "America/New_York" },
      { createdAt: old, updatedAt: old },
    );
    await f.save(gap);
    let clock = new Date("2026-03-08T06:50:00Z"); // 01:50 EST, ten minutes before the clocks jump
    const { log, lines } = capturingLog();
    await f.start(f.instance(), log, { catchUpHours: 1, reloadMs: 60_000, sweepMs: 100, now: () => clock });
    expect(await f.exportJobs(gap.id)).toHaveLength(0);

    clock = new Date("2026-03-08T07:00:30Z"); // 03:00:30 EDT: 02:30 never happened today
    // The next sweep (every 100 ms here) sees the new time.
    const jobs = await until(
      "the sweep's export job",
      async () => {
        const found = await f.exportJobs(gap.id);
        return found.length > 0 && found;
      },
      5000,
    );
    expect(jobs.map((j) => j.data.slot)).toEqual(["2026-03-08T07:00:00.000Z"]);
    expect(lines.find((l) => l.campaignId === gap.id && l.msg === "export job enqueued")?.reason).toBe(
      "sweep",
    );
  });
});
