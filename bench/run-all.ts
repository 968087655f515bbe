/**
 * Every benchmark in one run: card rendering, the pipeline end to end, export, worker scale-out and
 * BullMQ's own overhead, on the local Redis under a fresh key prefix (deleted afterwards).
 *
 *   npm run bench                          full run → bench/results/bench.{md,json}
 *   npx tsx bench/run-all.ts --only e2e,queue --reps 3 --quotes 200
 *                                          partial or smaller run → bench/results/pipeline.{md,json}
 *
 * Sections: render, e2e, export, scale (--processes 1,2,4,8), queue, reads (--read-sizes 1000,10000,100000).
 * Progress goes to stderr; the table to stdout.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { connectRedis } from "../src/store/redis.js";
import { runE2e } from "./pipeline/e2e.js";
import { runExportBench } from "./pipeline/export-bench.js";
import { machineInfo } from "./pipeline/machine.js";
import { killAllChildren } from "./pipeline/processes.js";
import { runQueueBench } from "./pipeline/queue-overhead.js";
import { runReads } from "./pipeline/reads.js";
import { type BenchReport, toMarkdown } from "./pipeline/report.js";
import { parseProcessCounts, runScale } from "./pipeline/scale.js";
import { progress } from "./pipeline/stats.js";
import { disposeAllWorlds, newRunId, newRunRoot, REDIS_URL } from "./pipeline/world.js";
import { runRenderBench } from "./render.bench.js";

const SECTIONS = ["render", "e2e", "export", "scale", "queue", "reads"] as const;
type Section = (typeof SECTIONS)[number];

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    reps: { type: "string", default: "3" },
    quotes: { type: "string", default: "500" },
    "scale-quotes": { type: "string", default: "250" },
    processes: { type: "string", default: "1,2" },
    "export-sizes": { type: "string", default: "1000,4000" },
    "queue-jobs": { type: "string", default: "20000" },
    "read-sizes": { type: "string", default: "1000,10000,100000" },
    "read-requests": { type: "string", default: "200" },
  },
});
const only = values.only ? (values.only.split(",") as Section[]) : [...SECTIONS];
const unknown = only.filter((s) => !SECTIONS.includes(s));
if (unknown.length)
  throw new Error(`unknown section(s) ${unknown.join(", ")}; known: ${SECTIONS.join(", ")}`);
const reps = Math.max(3, Number(values.reps));
const quotes = Number(values.quotes);
if (quotes * 4 < 500) throw new Error("--quotes must give at least 500 cards per repetition (125 quotes)");
const scaleQuotes = Number(values["scale-quotes"]);
const scaleProcesses = parseProcessCounts(values.processes!);
const exportSizes = values["export-sizes"]!.split(",").map(Number);
const queueJobs = Number(values["queue-jobs"]);
const readSizes = values["read-sizes"]!.split(",").map(Number);
const readRequests = Number(values["read-requests"]);
const full =
  only.length === SECTIONS.length &&
  quotes === 500 &&
  scaleQuotes === 250 &&
  values.processes === "1,2" &&
  values["export-sizes"] === "1000,4000" &&
  queueJobs === 20000 &&
  values["read-sizes"] === "1000,10000,100000" &&
  readRequests === 200;

const runId = newRunId();
const runRoot = newRunRoot(runId);
const run = { runId, runRoot };

async function cleanUp() {
  killAllChildren();
  await disposeAllWorlds();
  await rm(runRoot, { recursive: true, force: true });
}
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    progress(`${sig}: stopping children, deleting ${runId} keys and ${runRoot}`);
    void cleanUp().finally(() => process.exit(130));
  });
}

const redis = connectRedis(REDIS_URL, "command");
const started = performance.now();
const report: BenchReport = {
  runId,
  machine: await machineInfo(redis),
  loadAverage: { start: os.loadavg(), end: [] },
  reps,
  seconds: 0,
  notes: full
    ? []
    : [`Partial or resized run (sections: ${only.join(", ")}; ${quotes} quotes for end to end).`],
};
progress(`run ${runId}: sections ${only.join(", ")}; temporary files under ${runRoot}`);

try {
  await mkdir(runRoot, { recursive: true });
  if (only.includes("render")) {
    progress(
      "render: bench/render.bench.ts (testimony, Skia, encode floor; satori + resvg in a child of its own)",
    );
    const r = await runRenderBench({ reps });
    report.render = { rows: r.rows, markdown: r.markdown };
  }
  if (only.includes("e2e")) {
    report.e2e = await runE2e(run, { quotes, reps, warmQuotes: 50 });
  }
  if (only.includes("export")) {
    report.export = await runExportBench(run, { sizes: exportSizes, reps });
  }
  if (only.includes("scale")) {
    report.scale = await runScale(run, {
      quotes: scaleQuotes,
      reps,
      warmQuotes: 25,
      processes: scaleProcesses,
    });
  }
  if (only.includes("reads")) {
    report.reads = await runReads(run, { sizes: readSizes, requests: readRequests, concurrency: 4 });
  }
  if (only.includes("queue")) {
    report.queue = await runQueueBench(run, { jobs: queueJobs, reps, concurrency: 50, warmJobs: 2000 });
  }
} finally {
  await cleanUp();
  await redis.quit().catch(() => redis.disconnect());
}

report.seconds = (performance.now() - started) / 1000;
report.loadAverage.end = os.loadavg();
const markdown = toMarkdown(report);
const dir = path.join(import.meta.dirname, "results");
const name = full ? "bench" : "pipeline";
await mkdir(dir, { recursive: true });
await writeFile(path.join(dir, `${name}.md`), `${markdown}\n`);
await writeFile(path.join(dir, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
process.stdout.write(`${markdown}\n`);
progress(`done in ${(report.seconds / 60).toFixed(1)} min: bench/results/${name}.md and ${name}.json`);
