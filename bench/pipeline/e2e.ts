import { rm } from "node:fs/promises";
import path from "node:path";
import { type Api, apiClient, healthy } from "./api.js";
import { bareRender, cardInputsFor } from "./bare-render.js";
import { benchCampaign, seed } from "./fixtures.js";
import { cpuSeconds, freePort, type NodeChild, peakRssMiB, spawnCli, tail } from "./processes.js";
import { redisCpuSeconds } from "./redis-cpu.js";
import { waitRendered } from "./rendered.js";
import { median, now, progress, until } from "./stats.js";
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
  redisCpuSeconds: number;
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
    bareCpuMsPerCard: number;
    redisCpuMsPerCard: number;
    bundleMiB: number;
  };
};

type Ctx = { world: World; api: Api; app: NodeChild; staff: string; reviewer: string };

/** One campaign through the whole pipeline, through the API of one `testimony start` process. */
async function e2eRep(ctx: Ctx, campaignId: string, quoteIds?: string[]): Promise<E2eRep> {
  const { api, world } = ctx;
  const appCpu0 = await cpuSeconds(ctx.app.pid);
  const redisCpu0 = await redisCpuSeconds(world.redis);
  const t0 = now();
  const queued = await api<{ outputIds: string[] }>(
    "POST",
    `/api/campaigns/${campaignId}/queue`,
    ctx.staff,
    quoteIds ? { quoteIds } : {},
  );
  const t1 = now();
  const ids = queued.outputIds;
  await waitRendered(world.store, campaignId, ids.length);
  const t2 = now();
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
  const redisCpu = (await redisCpuSeconds(world.redis)) - redisCpu0;
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
    redisCpuSeconds: redisCpu,
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
  const world = await openWorld(run.runId, run.runRoot, "e2e");
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
        bareCpuMsPerCard: median(bare.map((b) => (b.cpuSeconds / b.cards) * 1000)),
        redisCpuMsPerCard: m((r) => (r.redisCpuSeconds / r.cards) * 1000),
        bundleMiB: m((r) => r.bundleMiB),
      },
    };
  } finally {
    await app?.stop();
    await world.dispose();
  }
}
