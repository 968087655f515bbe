import type { RenderBenchRow } from "../render.bench.js";
import type { E2eResult, RedisPerCard } from "./e2e.js";
import type { ExportResult } from "./export-bench.js";
import { type Machine, machineLine } from "./machine.js";
import type { QueueResult } from "./queue-overhead.js";
import { type ReadsResult, readsSection } from "./reads.js";
import type { ScaleResult } from "./scale.js";
import { f0, f1, f2 } from "./stats.js";

export type RenderSection = { rows: RenderBenchRow[]; markdown: string };
export type BenchReport = {
  runId: string;
  machine: Machine;
  loadAverage: { start: number[]; end: number[] };
  reps: number;
  seconds: number;
  notes: string[];
  render?: RenderSection;
  e2e?: E2eResult;
  export?: ExportResult;
  scale?: ScaleResult;
  queue?: QueueResult;
  reads?: ReadsResult;
};

const E2E_TARGET = 0.9;
const RSS_TARGET_MIB = 200;
const yesNo = (ok: boolean) => (ok ? "met" : "**missed**");
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function summary(r: BenchReport): string[] {
  const rows: string[][] = [];
  if (r.render) {
    const at2 = (engine: string) =>
      r.render!.rows.filter((x) => x.engine === engine && x.concurrency === 2).map((x) => x.cardsPerSec);
    const testimony = at2("testimony");
    const skia = at2("skia");
    const satori = at2("satori+resvg");
    rows.push(
      [
        "render",
        "testimony cards/s, 2 in flight (mean of 4 formats × 2 scripts)",
        f1(mean(testimony)),
        "",
        "",
      ],
      ["render", "Skia (@napi-rs/canvas) + sharp encode cards/s, same cards", f1(mean(skia)), "", ""],
      ["render", "satori + resvg cards/s, same cards", f1(mean(satori)), "", ""],
    );
    const vsSkia = r.render.rows
      .filter((x) => x.engine === "testimony")
      .map((t) => {
        const k = r.render!.rows.find(
          (x) =>
            x.engine === "skia" &&
            x.format === t.format &&
            x.case === t.case &&
            x.concurrency === t.concurrency,
        );
        return k ? t.cardsPerSec / k.cardsPerSec : Number.NaN;
      });
    const lowest = Math.min(...vsSkia);
    rows.push([
      "render",
      "testimony ÷ Skia, lowest of formats × scripts × in flight",
      `${f2(lowest)}×`,
      "≥ 1.0× in every row",
      yesNo(lowest >= 1),
    ]);
  }
  if (r.e2e) {
    const m = r.e2e.median;
    rows.push(
      [
        "end to end",
        `cards/s, ${f0(r.e2e.cardsPerRep)} cards queue → render → approve → export`,
        f1(m.e2eCardsPerSec),
        "",
        "",
      ],
      [
        "end to end",
        "bare render cards/s (renderCard in-process, 2 in flight, same cards)",
        f1(m.bareCardsPerSec),
        "",
        "",
      ],
      [
        "end to end",
        "end-to-end ÷ bare render",
        f2(m.ratio),
        `≥ ${E2E_TARGET}`,
        yesNo(m.ratio >= E2E_TARGET),
      ],
      ["end to end", "render phase only (queue + render) ÷ bare render", f2(m.renderRatio), "", ""],
      ...(m.redis
        ? [
            [
              "end to end",
              "Redis per card, whole pipeline: round trips (requests) / commands / CPU ms",
              `${f1(m.redis.all.roundTrips)} / ${f1(m.redis.all.commands)} / ${f2(m.redis.all.cpuMs)}`,
              "",
              "",
            ],
            [
              "end to end",
              "Redis per card, queue + render: round trips / commands / CPU ms",
              `${f1(m.redis.render.roundTrips)} / ${f1(m.redis.render.commands)} / ${f2(m.redis.render.cpuMs)}`,
              "",
              "",
            ],
          ]
        : []),
    );
  }
  if (r.export) {
    for (const s of r.export.sizes) {
      rows.push([
        "export",
        `${f0(s.cards)} cards: export MiB/s (cp -r MiB/s)`,
        `${f0(s.median.exportMiBps)} (${f0(s.median.cpMiBps)})`,
        "",
        "",
      ]);
    }
    const sizes = r.export.sizes.map((s) => f0(s.cards)).join(" / ");
    const peaks = r.export.sizes.map((s) => s.median.peakRssMaxMiB);
    const flat = Math.max(...peaks) - Math.min(...peaks) < 50;
    rows.push(
      [
        "export",
        `peak RSS of \`node dist/cli/main.js export --now\` at ${sizes} cards (MiB, worst rep)`,
        peaks.map(f0).join(" / "),
        `flat, < ${RSS_TARGET_MIB} MiB`,
        yesNo(flat && Math.max(...peaks) < RSS_TARGET_MIB),
      ],
      [
        "export",
        `peak RSS of the same drop under tsx (the TypeScript sources) at ${sizes} cards (MiB, worst rep)`,
        r.export.sizes.map((s) => f0(s.median.tsxPeakRssMaxMiB ?? Number.NaN)).join(" / "),
        "",
        "",
      ],
      [
        "export",
        `peak RSS of writeZip alone at ${sizes} cards (MiB)`,
        r.export.sizes.map((s) => f0(s.median.zipOnlyPeakRssMiB)).join(" / "),
        "",
        "",
      ],
    );
  }
  if (r.scale) {
    const configs = r.scale.configs;
    rows.push([
      "scale",
      `render cards/s by worker processes ${configs.map((c) => c.processes).join(" → ")} (${r.scale.concurrency} in flight each; efficiency against linear)`,
      configs.map((c) => `${f1(c.medianCardsPerSec)} (${f0(c.efficiency * 100)} %)`).join(" → "),
      "",
      "",
    ]);
  }
  if (r.queue) {
    rows.push(
      [
        "queue",
        `BullMQ no-op jobs/s, add → completed (${f0(r.queue.jobs)} jobs, concurrency ${r.queue.concurrency})`,
        f0(r.queue.median.throughJobsPerSec),
        "",
        "",
      ],
      ["queue", "BullMQ add-only jobs/s (one addBulk)", f0(r.queue.median.addOnlyJobsPerSec), "", ""],
    );
  }
  return [
    "| section | figure | median | target | |",
    "|---|---|---:|---|---|",
    ...rows.map((c) => `| ${c.join(" | ")} |`),
  ];
}

function e2eSection(e: E2eResult, reps: number): string[] {
  const m = e.median;
  const p = m.phases;
  const share = (s: number) => `${f0((s / p.total) * 100)} %`;
  return [
    "## End to end",
    "",
    `${f0(e.quotes)} vetted quotes (50 speakers, English and Arabic) × 4 formats = ${f0(e.cardsPerRep)} cards per repetition, through one \`testimony start\` process (API + render worker at its default concurrency, 3 + export worker + scheduler): queue (POST /api/campaigns/:id/queue as staff) → render → bulk approve (POST /api/outputs/bulk-approve as a reviewer, 200 ids per request) → export (POST /api/campaigns/:id/export, one bundle). Phases run one after the other; rendering starts while the queue request is still adding jobs. Bare render: renderCard in the bench process, 2 in flight, the same ${f0(e.cardsPerRep)} card inputs, interleaved with the pipeline runs. Median of ${reps}.`,
    "",
    "| phase | seconds | share | rate |",
    "|---|---:|---:|---|",
    `| queue | ${f2(p.queue)} | ${share(p.queue)} | ${f0(e.cardsPerRep / p.queue)} outputs/s |`,
    `| render | ${f2(p.render)} | ${share(p.render)} | ${f1(m.renderCardsPerSec)} cards/s counted from the queue request |`,
    `| approve | ${f2(p.approve)} | ${share(p.approve)} | ${f0(e.cardsPerRep / p.approve)} approvals/s |`,
    `| export | ${f2(p.export)} | ${share(p.export)} | ${f0(m.bundleMiB / p.export)} MiB/s (${f0(m.bundleMiB)} MiB zip) |`,
    `| **total** | **${f2(p.total)}** | | **${f1(m.e2eCardsPerSec)} cards/s** |`,
    `| bare render | ${f2(e.cardsPerRep / m.bareCardsPerSec)} | | ${f1(m.bareCardsPerSec)} cards/s |`,
    "",
    `End-to-end ÷ bare render: **${f2(m.ratio)}** (target ≥ ${E2E_TARGET}); render phase ÷ bare render: ${f2(m.renderRatio)}.`,
    `CPU per card: \`testimony start\` process ${f1(m.appCpuMsPerCard)} ms over the whole pipeline${m.appRenderCpuMsPerCard ? `, ${f1(m.appRenderCpuMsPerCard)} ms during queue + render` : ""} (bare renderCard ${f1(m.bareCpuMsPerCard)} ms), redis-server ${f2(m.redisCpuMsPerCard)} ms. Peak RSS of the \`testimony start\` process: ${f0(e.appPeakRssMiB)} MiB.`,
    "",
    ...(m.redis ? redisPerCardLines(m.redis) : []),
    "| rep | cards | queue s | render s | approve s | export s | total s | cards/s | bare cards/s |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...e.reps.map(
      (r, i) =>
        `| ${i + 1} | ${r.cards} | ${f2(r.queue)} | ${f2(r.render)} | ${f2(r.approve)} | ${f2(r.export)} | ${f2(r.total)} | ${f1(r.cardsPerSec)} | ${f1(e.bare[i]?.cardsPerSec ?? Number.NaN)} |`,
    ),
    "",
  ];
}

function redisPerCardLines(r: NonNullable<E2eResult["median"]["redis"]>): string[] {
  const row = (name: string, x: RedisPerCard) =>
    `| ${name} | ${f1(x.roundTrips)} | ${f1(x.commands)} | ${f1(x.scripts)} | ${f2(x.cpuMs)} | ${x.top
      .slice(0, 5)
      .map((t) => `${t.command} ${f0(t.usecPerCard)} µs × ${f1(t.callsPerCard)}`)
      .join(", ")} |`;
  return [
    "Redis per card, on a redis-server of the section's own (no persistence), less the bench's own polling: round trips are requests received (`total_reads_processed`: a pipelined batch counts once), commands are `INFO commandstats` calls (including the commands scripts run), CPU is `INFO cpu` user + sys.",
    "",
    "| phase | round trips | commands | of which scripts | CPU ms | most Redis time (µs per card × calls per card) |",
    "|---|---:|---:|---:|---:|---|",
    row("queue + render", r.render),
    row("whole pipeline", r.all),
    "",
    ...(r.all.split?.length
      ? [...splitLines("queue + render", r.render), ...splitLines("whole pipeline", r.all)]
      : []),
  ];
}

/**
 * BENCH_REDIS_SPLIT=1: per script and use, requests and wall µs inside them per card (SLOWLOG at
 * threshold 0, the repetition of median CPU); what is left of `INFO cpu` is outside any request's
 * execution: reading and parsing requests, writing replies, the server's own cron.
 */
function splitLines(phase: string, x: RedisPerCard): string[] {
  const split = x.split ?? [];
  const inside = split.reduce((s, t) => s + t.usecPerCard, 0);
  return [
    `Redis per card by request, ${phase} (slow log at threshold 0: wall µs inside each request, a script with the commands it runs, the largest of which are listed; ${f0(inside)} of the ${f0(x.cpuMs * 1000)} µs of CPU; the rest is outside requests' execution: socket reads and writes, parsing, the server's cron; wall µs exceed CPU on a loaded machine):`,
    "",
    "| request | per card | µs per card | µs each | of which, µs per card |",
    "|---|---:|---:|---:|---|",
    ...split
      .filter((t) => t.usecPerCard >= 0.5)
      .map(
        (t) =>
          `| ${t.label} | ${f2(t.callsPerCard)} | ${f1(t.usecPerCard)} | ${f1(t.usecPerCard / t.callsPerCard)} | ${Object.entries(
            t.inner,
          )
            .sort((a, b) => b[1] - a[1])
            .slice(0, 6)
            .map(([c, u]) => `${c} ${f1(u)}`)
            .join(", ")} |`,
      ),
    "",
  ];
}

function exportSection(x: ExportResult, reps: number): string[] {
  return [
    "## Export",
    "",
    `Approved outputs whose card files are copies of 8 real cards (4 formats × Latin/Arabic), with their real text variants (3 per card) and card sizes on their records, as the render leaves them (one file per output). Both drops set V8's \`--optimize-for-size\` at run time as \`testimony export\` does (src/app/export/memory.ts). Each drop is \`exportSlot\` in a child process of its own (\`bench/pipeline/export-child.ts\` under \`node --import tsx\`, which times the steps), then the same drop again (a campaign of its own over the same files) through the built CLI as users run it, \`node dist/cli/main.js export CAMPAIGN --now\` (dist/ built first), whose VmHWM is the peak RSS figure; \`writeZip\` alone over the same files runs in another child (\`bench/pipeline/zip-child.ts\`), and \`cp -r\` copies the same card files, all in the same run (page cache warm for all; none syncs). Steps: reserve (consent expiry, missed drops, plan, bundle record, then the outputs 256 per commit), write (redaction gate and streamed manifest a page at a time, zip), mark exported (256 outputs per commit, then the bundle). Peak RSS is the child's own VmHWM: on Linux its \`process.resourceUsage().maxRSS\` starts at the bench process's RSS at the fork (the kernel carries the high-water mark across exec), so that figure, shown too, is only meaningful while the bench process is small. Median of ${reps}.`,
    "",
    "| cards | zip MiB | export s | export MiB/s | writeZip alone MiB/s | cp -r MiB/s | export ÷ cp -r | reserve s | write s | mark exported s |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...x.sizes.map((s) => {
      const m = s.median;
      return `| ${f0(s.cards)} | ${f0(m.zipMiB)} | ${f2(m.exportSeconds)} | ${f0(m.exportMiBps)} | ${f0(m.zipOnlyMiBps)} | ${f0(m.cpMiBps)} | ${f2(m.exportMiBps / m.cpMiBps)} | ${f2(m.steps.reserve)} | ${f2(m.steps.write)} | ${f2(m.steps.mark)} |`;
    }),
    "",
    "| cards | export peak RSS MiB, built CLI (worst rep) | built CLI s | same drop under tsx, peak RSS MiB (worst rep) | tsx child's maxRSS MiB | tsx child's RSS after start-up, before the export MiB | writeZip alone peak RSS MiB | fd table of the tsx child (FDSize) |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...x.sizes.map((s) => {
      const m = s.median;
      return `| ${f0(s.cards)} | ${f0(m.peakRssMiB)} (${f0(m.peakRssMaxMiB)}) | ${f2(m.cliSeconds ?? Number.NaN)} | ${f0(m.tsxPeakRssMiB ?? Number.NaN)} (${f0(m.tsxPeakRssMaxMiB ?? Number.NaN)}) | ${f0(m.maxRssMiB)} | ${f0(m.baselineRssMiB)} | ${f0(m.zipOnlyPeakRssMiB)} | ${f0(m.fdTable)} |`;
    }),
    "",
  ];
}

function scaleSection(s: ScaleResult, reps: number): string[] {
  const cores = s.cores ?? 2;
  const last = s.configs.at(-1)!;
  return [
    "## Scale",
    "",
    `The same job set (${f0(s.cardsPerRep)} cards: quotes × 4 formats, a fresh campaign per repetition) queued with queueCampaign, rendered by N \`testimony work --concurrency ${s.concurrency ?? 2}\` processes on the same Redis; time from queueing to the last output in review. Efficiency is cards/s ÷ (N × cards/s of one process); CPU share is the workers' CPU time ÷ (${cores} cores × wall time). Median of ${reps}.`,
    "",
    "| worker processes | cards/s | efficiency vs linear | worker CPU ms/card | workers' CPU share of the machine |",
    "|---:|---:|---:|---:|---:|",
    ...s.configs.map(
      (c) =>
        `| ${c.processes} | ${f1(c.medianCardsPerSec)} | ${f0((c.efficiency ?? Number.NaN) * 100)} % | ${f1(c.medianCpuMsPerCard)} | ${f0((c.medianCpuShare ?? Number.NaN) * 100)} % |`,
    ),
    "",
    `${last.processes} processes ÷ one: ×${f2(s.speedup)}.`,
    ...(s.configs.some((c) => c.processes * (s.concurrency ?? 2) > cores)
      ? [
          "",
          `This machine has ${cores} cores and every process renders up to ${s.concurrency ?? 2} cards at once (libvips adds threads of its own): counts whose processes × in-flight cards exceed the cores are CPU-bound, so their efficiency measures the machine's cores, not the queue or Redis; on a shared machine the workers get less than all of it (their CPU share column), the rest going to other processes. Scale-out beyond that needs a machine with more cores.`,
        ]
      : []),
    "",
  ];
}

function queueSection(q: QueueResult, reps: number): string[] {
  return [
    "## Queue overhead",
    "",
    `BullMQ alone on the same Redis: ${f0(q.jobs)} no-op jobs shaped like render jobs (ids-only payload, the render queue's job options), one Queue.addBulk; one Worker with a no-op processor at concurrency ${q.concurrency}, in the bench process. Median of ${reps}.`,
    "",
    "| figure | jobs/s |",
    "|---|---:|",
    `| add-only (no worker) | ${f0(q.median.addOnlyJobsPerSec)} |`,
    `| first add → last completion | ${f0(q.median.throughJobsPerSec)} |`,
    "",
    `That is ${f2(q.median.msPerJob)} ms of queue per job.`,
    "",
  ];
}

export function toMarkdown(r: BenchReport): string {
  return [
    "# testimony benchmarks",
    "",
    machineLine(r.machine),
    `Load average at start ${r.loadAverage.start.map(f2).join(", ")}, at end ${r.loadAverage.end.map(f2).join(", ")}. Run ${r.runId}: ${f1(r.seconds / 60)} min. Every figure is the median of ${r.reps} repetitions after a warm-up. Regenerate with \`npm run bench\`.`,
    ...r.notes.map((n) => `\n${n}`),
    "",
    ...summary(r),
    "",
    ...(r.e2e ? e2eSection(r.e2e, r.reps) : []),
    ...(r.export ? exportSection(r.export, r.reps) : []),
    ...(r.reads ? readsSection(r.reads) : []),
    ...(r.scale ? scaleSection(r.scale, r.reps) : []),
    ...(r.queue ? queueSection(r.queue, r.reps) : []),
    ...(r.render ? [r.render.markdown] : []),
  ].join("\n");
}
