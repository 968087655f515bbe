import { rm } from "node:fs/promises";
import path from "node:path";
import { type Api, apiClient, healthy } from "./api.js";
import { bareRender, cardInputsFor } from "./bare-render.js";
import { benchCampaign, seed } from "./fixtures.js";
import { cpuSeconds, freePort, type NodeChild, peakRssMiB, spawnCli, tail } from "./processes.js";
import { type RedisDelta, redisDelta, redisStats } from "./redis-cpu.js";
import { median, now, progress, sleep, until } from "./stats.js";
import { openWorld, type World } from "./world.js";

export type E2eRep = {
  cards: number;
  /** Seconds, each phase after the previous one. */
  queue: number;
  render: number;
  approve: number;
  export: number;
  total: number;
  cardsPerSec: number;
  /** Cards / (queue + render): the render workers' own throughput inside the pipeline. */
  renderCardsPerSec: number;
  bundleMiB: number;
  /** CPU seconds of the `testimony start` process and of redis-server during the repetition. */
  appCpuSeconds: number;
  /** CPU seconds of the `testimony start` process during queue + render alone. */
  appRenderCpuSeconds: number;
  redisCpuSeconds: number;
  /** What redis-server did (the world's private one), less the bench's own polling: queue + render, and all. */
  redisRender: RedisDelta;
  redisAll: RedisDelta;
};
export type BareRep = { cards: number; seconds: number; cardsPerSec: number; cpuSeconds: number };
export type E2eResult = {
  quotes: number;
  cardsPerRep: number;
  reps: E2eRep[];
  bare: BareRep[];
  /** Peak RSS of the `testimony start` process over the whole section (VmHWM), MiB. */
  appPeakRssMiB: number;
  median: {
    e2eCardsPerSec: number;
    renderCardsPerSec: number;
    bareCardsPerSec: number;
    ratio: number;
    renderRatio: number;
    phases: { queue: number; render: number; approve: number; export: number; total: number };
    appCpuMsPerCard: number;
    /** The same during queue + render only: against bareCpuMsPerCard, the worker's own overhead. */
    appRenderCpuMsPerCard: number;
    bareCpuMsPerCard: number;
    redisCpuMsPerCard: number;
    /** Per card, queue + render phase and whole pipeline: Redis requests (round trips), commands, CPU ms. */
    redis: { render: RedisPerCard; all: RedisPerCard };
    bundleMiB: number;
  };
};
export type RedisPerCard = {
  roundTrips: number;
  commands: number;
  scripts: number;
  cpuMs: number;
  /** The commands costing Redis the most time in this phase: µs and calls per card. */
  top: { command: string; usecPerCard: number; callsPerCard: number }[];
  /** BENCH_REDIS_SPLIT=1: requests and µs inside them per card, per script and use (redis-cpu.ts). */
  split?: { label: string; usecPerCard: number; callsPerCard: number; inner: Record<string, number> }[];
};

function perCard(d: RedisDelta, cards: number): RedisPerCard {
  return {
    roundTrips: d.reads / cards,
    commands: d.commands / cards,
    scripts: d.scripts / cards,
    cpuMs: (d.cpuSeconds / cards) * 1000,
    top: Object.entries(d.usec)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([command, u]) => ({
        command,
        usecPerCard: u / cards,
        callsPerCard: (d.calls[command] ?? 0) / cards,
      })),
    split: Object.entries(d.split)
      .sort((a, b) => b[1].usec - a[1].usec)
      .map(([label, t]) => ({
        label,
        usecPerCard: t.usec / cards,
        callsPerCard: t.calls / cards,
        inner: Object.fromEntries(Object.entries(t.inner).map(([c, u]) => [c, u / cards])),
      })),
  };
}

function medianPerCard(xs: RedisPerCard[]): RedisPerCard {
  const m = (f: (x: RedisPerCard) => number) => median(xs.map(f));
  // The top list of the median repetition by CPU.
  const mid = [...xs].sort((a, b) => a.cpuMs - b.cpuMs)[Math.floor(xs.length / 2)]!;
  return {
    roundTrips: m((x) => x.roundTrips),
    commands: m((x) => x.commands),
    scripts: m((x) => x.scripts),
    cpuMs: m((x) => x.cpuMs),
    top: mid.top,
    split: mid.split,
  };
}

/**
 * Until `expected` outputs of the campaign have left rendering, two ZCARDs in one pipeline every
 * 20 ms (one request to Redis per poll); fails at the first failed render. Returns the polls made.
 */
async function waitRendered(world: World, campaignId: string, expected: number): Promise<number> {
  const key = (status: string) =>
    world.store.keys.sorted("output", `campaign:${campaignId}:status:${status}`);
  const deadline = Date.now() + 15 * 60_000;
  for (let polls = 1; ; polls++) {
    const replies = (await world.redis.pipeline().zcard(key("in_review")).zcard(key("failed")).exec()) ?? [];
    const [done, failed] = replies.map(([err, n]) => {
      if (err) throw err;
      return Number(n);
    }) as [number, number];
    if (failed > 0) {
      const [first] = await world.store.outputs.list([`campaign:${campaignId}:status:failed`]);
      throw new Error(
        `${failed} render(s) of ${campaignId} failed, e.g. ${first?.id}: ${first?.failure?.reason}: ${first?.failure?.message}`,
      );
    }
    if (done >= expected) return polls;
    if (Date.now() > deadline) throw new Error(`${campaignId}: only ${done}/${expected} rendered in time`);
    await sleep(20);
  }
}

type Ctx = { world: World; api: Api; app: NodeChild; staff: string; reviewer: string };

/** One campaign through the whole pipeline, through the API of one `testimony start` process. */
async function e2eRep(ctx: Ctx, campaignId: string, quoteIds?: string[]): Promise<E2eRep> {
  const { api, world } = ctx;
  const appCpu0 = await cpuSeconds(ctx.app.pid);
  const redis0 = await redisStats(world.redis);
  const t0 = now();
  const queued = await api<{ outputIds: string[] }>(
    "POST",
    `/api/campaigns/${campaignId}/queue`,
    ctx.staff,
    quoteIds ? { quoteIds } : {},
  );
  const t1 = now();
  const ids = queued.outputIds;
  const polls = await waitRendered(world, campaignId, ids.length);
  const t2 = now();
  const appCpu2 = await cpuSeconds(ctx.app.pid);
  const redis2 = await redisStats(world.redis);
  for (let i = 0; i < ids.length; i += 200) {
    const { results } = await api<{ results: { id: string; ok: boolean; error?: { message: string } }[] }>(
      "POST",
      "/api/outputs/bulk-approve",
      ctx.reviewer,
      { ids: ids.slice(i, i + 200) },
    );
    const refused = results.find((r) => !r.ok);
    if (refused) throw new Error(`approve ${refused.id}: ${refused.error?.message}`);
  }
  const t3 = now();
  const exported = await api<{ status: string; bundle?: { outputIds: string[]; bytes?: number } }>(
    "POST",
    `/api/campaigns/${campaignId}/export`,
    ctx.staff,
  );
  const t4 = now();
  const inBundle = exported.bundle?.outputIds.length ?? 0;
  if (inBundle !== ids.length) {
    throw new Error(`${campaignId}: bundle holds ${inBundle} of ${ids.length} outputs (${exported.status})`);
  }
  const appCpu = (await cpuSeconds(ctx.app.pid)) - appCpu0;
  const redis4 = await redisStats(world.redis);
  // The bench's own requests: its polling (one pipeline of two ZCARDs) and the INFO snapshots.
  const ownPolling = { zcard: 2 * polls };
  const redisRender = redisDelta(redis0, redis2, { calls: { ...ownPolling, info: 1 }, reads: polls + 1 });
  const redisAll = redisDelta(redis0, redis4, { calls: { ...ownPolling, info: 2 }, reads: polls + 2 });
  // Keep the disk small between repetitions: this campaign's bundle and cards are done with.
  await rm(path.join(world.exportDir, campaignId), { recursive: true, force: true });
  await rm(path.join(world.dataDir, "outputs", campaignId), { recursive: true, force: true });
  const s = (a: number, b: number) => (b - a) / 1000;
  return {
    cards: ids.length,
    queue: s(t0, t1),
    render: s(t1, t2),
    approve: s(t2, t3),
    export: s(t3, t4),
    total: s(t0, t4),
    cardsPerSec: ids.length / s(t0, t4),
    renderCardsPerSec: ids.length / s(t0, t2),
    bundleMiB: (exported.bundle?.bytes ?? 0) / 1024 ** 2,
    appCpuSeconds: appCpu,
    appRenderCpuSeconds: appCpu2 - appCpu0,
    redisCpuSeconds: redisAll.cpuSeconds,
    redisRender,
    redisAll,
  };
}

/**
 * End to end: `quotes` vetted quotes × 4 formats through queue → render → bulk approve → export, one
 * `testimony start` child doing the work, interleaved with the bare-render ceiling on the same cards.
 */
export async function runE2e(
  run: { runId: string; runRoot: string },
  opts: { quotes: number; reps: number; warmQuotes: number },
): Promise<E2eResult> {
  // A redis-server of its own, so Redis CPU and commands per card count testimony's work alone.
  const world = await openWorld(run.runId, run.runRoot, "e2e", { privateRedis: true });
  let app: NodeChild | undefined;
  try {
    const seeded = await seed(world.store, { quotes: opts.quotes });
    const port = await freePort();
    app = spawnCli(["start"], world.env({ PORT: String(port) }), path.join(world.root, "start.log"));
    const base = `http://127.0.0.1:${port}`;
    await until("testimony start to answer /health", () => healthy(base), 90_000, 200).catch(
      async (err: Error) => {
        throw new Error(`${err.message}\n${await tail(app!.logFile)}`);
      },
    );
    const ctx: Ctx = {
      world,
      api: apiClient(base),
      app,
      staff: seeded.staffToken,
      reviewer: seeded.reviewerToken,
    };
    const ids = ["e2e-warm", ...Array.from({ length: opts.reps }, (_, r) => `e2e-r${r + 1}`)];
    const campaigns = [];
    for (const id of ids) campaigns.push(await benchCampaign(world.store, id));
    const inputs = await cardInputsFor(world.store, campaigns[1]!, seeded.quotes, seeded.speakers);

    progress(`e2e: warm-up (${opts.warmQuotes * 4} cards bare, then through the pipeline)`);
    await bareRender(inputs.slice(0, opts.warmQuotes * 4));
    const warmIds = seeded.quotes.slice(0, opts.warmQuotes).map((q) => q.id);
    await e2eRep(ctx, "e2e-warm", warmIds);

    const reps: E2eRep[] = [];
    const bare: BareRep[] = [];
    for (let r = 0; r < opts.reps; r++) {
      const b = await bareRender(inputs);
      bare.push({ ...b, cardsPerSec: b.cards / b.seconds });
      progress(`e2e rep ${r + 1}/${opts.reps}: bare render ${(b.cards / b.seconds).toFixed(1)} cards/s`);
      const rep = await e2eRep(ctx, `e2e-r${r + 1}`);
      reps.push(rep);
      progress(
        `e2e rep ${r + 1}/${opts.reps}: ${rep.cards} cards in ${rep.total.toFixed(1)} s = ${rep.cardsPerSec.toFixed(1)} cards/s ` +
          `(queue ${rep.queue.toFixed(2)} s, render ${rep.render.toFixed(1)} s, approve ${rep.approve.toFixed(2)} s, export ${rep.export.toFixed(2)} s)`,
      );
    }
    const m = (f: (r: E2eRep) => number) => median(reps.map(f));
    const e2eCardsPerSec = m((r) => r.cardsPerSec);
    const renderCardsPerSec = m((r) => r.renderCardsPerSec);
    const bareCardsPerSec = median(bare.map((b) => b.cardsPerSec));
    return {
      quotes: opts.quotes,
      cardsPerRep: inputs.length,
      reps,
      bare,
      appPeakRssMiB: await peakRssMiB(app.pid),
      median: {
        e2eCardsPerSec,
        renderCardsPerSec,
        bareCardsPerSec,
        ratio: e2eCardsPerSec / bareCardsPerSec,
        renderRatio: renderCardsPerSec / bareCardsPerSec,
        phases: {
          queue: m((r) => r.queue),
          render: m((r) => r.render),
          approve: m((r) => r.approve),
          export: m((r) => r.export),
          total: m((r) => r.total),
        },
        appCpuMsPerCard: m((r) => (r.appCpuSeconds / r.cards) * 1000),
        appRenderCpuMsPerCard: m((r) => (r.appRenderCpuSeconds / r.cards) * 1000),
        bareCpuMsPerCard: median(bare.map((b) => (b.cpuSeconds / b.cards) * 1000)),
        redisCpuMsPerCard: m((r) => (r.redisCpuSeconds / r.cards) * 1000),
        redis: {
          render: medianPerCard(reps.map((r) => perCard(r.redisRender, r.cards))),
          all: medianPerCard(reps.map((r) => perCard(r.redisAll, r.cards))),
        },
        bundleMiB: m((r) => r.bundleMiB),
      },
    };
  } finally {
    await app?.stop();
    await world.dispose();
  }
}
