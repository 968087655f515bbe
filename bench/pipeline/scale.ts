import os from "node:os";
import path from "node:path";
import { queueCampaign } from "../../src/app/queue.service.js";
import { closeQueues, createQueues, type Queues } from "../../src/queues/queues.js";
import { loadTextTemplates } from "../../src/render/text/text.render.js";
import { benchCampaign, STAFF, seed } from "./fixtures.js";
import { cpuSeconds, type NodeChild, spawnCli } from "./processes.js";
import { waitRendered } from "./rendered.js";
import { median, now, progress, until } from "./stats.js";
import { openWorld, type World } from "./world.js";

export type ScaleRep = {
  cards: number;
  seconds: number;
  cardsPerSec: number;
  workerCpuMsPerCard: number;
  /** The workers' CPU seconds ÷ (cores × wall seconds): near 1, the machine had no CPU to spare. */
  cpuShare: number;
};
export type ScaleConfig = {
  processes: number;
  reps: ScaleRep[];
  medianCardsPerSec: number;
  medianCpuMsPerCard: number;
  medianCpuShare: number;
  /** cards/s ÷ (processes × cards/s of one process): 1 is linear scaling. */
  efficiency: number;
};
export type ScaleResult = {
  cardsPerRep: number;
  cores: number;
  /** Render jobs each `testimony work` process takes at once. */
  concurrency: number;
  configs: ScaleConfig[];
  /** Throughput of the largest count ÷ one process. */
  speedup: number;
};

const CONCURRENCY = 2;

/** "1,2,4,8" → [1, 2, 4, 8]; 1 is always measured, as the base of the efficiency. */
export function parseProcessCounts(list: string): number[] {
  const counts = list.split(",").map((x) => Number(x.trim()));
  const bad = counts.find((n) => !Number.isInteger(n) || n < 1 || n > 64);
  if (bad !== undefined) throw new Error(`--processes: ${JSON.stringify(list)} must be whole numbers 1..64`);
  return [...new Set([1, ...counts])].sort((a, b) => a - b);
}

async function scaleRep(
  world: World,
  queues: Queues,
  templateVersion: string,
  workers: NodeChild[],
  campaignId: string,
  quoteIds: string[],
): Promise<ScaleRep> {
  await benchCampaign(world.store, campaignId);
  const cpu0 = await Promise.all(workers.map((w) => cpuSeconds(w.pid)));
  const t0 = now();
  const q = await queueCampaign(world.store, queues, { campaignId, actor: STAFF, templateVersion, quoteIds });
  await waitRendered(world.store, campaignId, q.outputIds.length);
  const seconds = (now() - t0) / 1000;
  const cpu1 = await Promise.all(workers.map((w) => cpuSeconds(w.pid)));
  const cpu = cpu1.reduce((a, c, i) => a + c - cpu0[i]!, 0);
  const cards = q.outputIds.length;
  return {
    cards,
    seconds,
    cardsPerSec: cards / seconds,
    workerCpuMsPerCard: (cpu / cards) * 1000,
    cpuShare: cpu / (os.cpus().length * seconds),
  };
}

/**
 * Render throughput of N `testimony work --concurrency 2` processes for each N in `processes`
 * (ascending, 1 first), on the same Redis and the same job set (same quotes × 4 formats, a fresh
 * campaign per repetition), and its efficiency against linear scaling from one process.
 */
export async function runScale(
  run: { runId: string; runRoot: string },
  opts: { quotes: number; reps: number; warmQuotes: number; processes?: number[] },
): Promise<ScaleResult> {
  const counts = parseProcessCounts((opts.processes ?? [1, 2]).join(","));
  const world = await openWorld(run.runId, run.runRoot, "scale");
  const queues = createQueues(world.redis, world.store.keys);
  const workers: NodeChild[] = [];
  try {
    const seeded = await seed(world.store, { quotes: opts.quotes });
    const templateVersion = loadTextTemplates().version;
    const quoteIds = seeded.quotes.map((q) => q.id);
    const configs: ScaleConfig[] = [];
    for (const processes of counts) {
      while (workers.length < processes) {
        const log = path.join(world.root, `work-${workers.length + 1}.log`);
        workers.push(spawnCli(["work", "--concurrency", String(CONCURRENCY)], world.env(), log));
      }
      await until(
        `${processes} render worker process(es)`,
        async () => (await queues.render.getWorkersCount()) >= processes,
        60_000 + 20_000 * processes,
        200,
      );
      progress(`scale: ${processes} process(es), warm-up`);
      await scaleRep(
        world,
        queues,
        templateVersion,
        workers,
        `scale-${processes}p-warm`,
        quoteIds.slice(0, opts.warmQuotes),
      );
      const reps: ScaleRep[] = [];
      for (let r = 0; r < opts.reps; r++) {
        const rep = await scaleRep(
          world,
          queues,
          templateVersion,
          workers,
          `scale-${processes}p-r${r + 1}`,
          quoteIds,
        );
        reps.push(rep);
        progress(
          `scale: ${processes} process(es) rep ${r + 1}/${opts.reps}: ${rep.cards} cards, ${rep.cardsPerSec.toFixed(1)} cards/s`,
        );
      }
      const medianCardsPerSec = median(reps.map((r) => r.cardsPerSec));
      const one = configs[0]?.medianCardsPerSec ?? medianCardsPerSec;
      configs.push({
        processes,
        reps,
        medianCardsPerSec,
        medianCpuMsPerCard: median(reps.map((r) => r.workerCpuMsPerCard)),
        medianCpuShare: median(reps.map((r) => r.cpuShare)),
        efficiency: medianCardsPerSec / (processes * one),
      });
    }
    return {
      cardsPerRep: opts.quotes * 4,
      cores: os.cpus().length,
      concurrency: CONCURRENCY,
      configs,
      speedup: configs.at(-1)!.medianCardsPerSec / configs[0]!.medianCardsPerSec,
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await closeQueues(queues);
    await world.dispose();
  }
}
