import { spawn } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { ensureBuilt } from "../../drill/support/built.js";
import { approvedOutputs, buildPool, type Pool } from "./export-pool.js";
import { benchCampaign, STAFF, seed } from "./fixtures.js";
import { BUILT_CLI_MAIN, spawnNode, spawnTsx, tail } from "./processes.js";
import { median, now, progress } from "./stats.js";
import { openWorld, type World } from "./world.js";

type ChildReport = {
  status: string;
  outputs: number;
  zipBytes: number;
  ms: number;
  stepsMs: Partial<Record<"reserved" | "written" | "renamed", number>>;
  baselineRssKiB: number;
  peakRssKiB: number;
  maxRssKiB: number;
  fdTable: number;
};
export type ExportRep = {
  cards: number;
  exportSeconds: number;
  zipMiB: number;
  exportMiBps: number;
  cpSeconds: number;
  filesMiB: number;
  cpMiBps: number;
  /**
   * Peak RSS (VmHWM) of `node dist/cli/main.js export CAMPAIGN --now`, the built CLI as users run it
   * (its own drop of the same size, right after the tsx child's).
   */
  peakRssMiB: number;
  /** Wall seconds of that CLI process, start-up and Redis/queue connections included. */
  cliSeconds: number;
  /** Peak RSS (VmHWM) of export-child.ts under `node --import tsx` (the TypeScript sources): the old figure. */
  tsxPeakRssMiB: number;
  /** `process.resourceUsage().maxRSS` of the same process: includes the bench's RSS at fork (own-rss.ts). */
  maxRssMiB: number;
  baselineRssMiB: number;
  /** writeZip alone over the same files (no store, no manifest), in its own process. */
  zipOnlySeconds: number;
  zipOnlyMiBps: number;
  zipOnlyPeakRssMiB: number;
  /** The export process's file-descriptor table at the end (FDSize: grows with the most files open at once, in powers of two, never shrinks). */
  fdTable: number;
  /** Seconds per crash-safe step: reserve (incl. consent expiry, missed drops), write folder, rename, mark exported. */
  steps: { reserve: number; write: number; rename: number; mark: number };
};
export type ExportSize = {
  cards: number;
  reps: ExportRep[];
  median: Omit<ExportRep, "cards"> & { peakRssMaxMiB: number; tsxPeakRssMaxMiB: number };
};
export type ExportResult = { sizes: ExportSize[] };

const EXPORT_CHILD = path.join(import.meta.dirname, "export-child.ts");
const RSS_AT_EXIT = path.join(import.meta.dirname, "rss-at-exit.mjs");
const ZIP_CHILD = path.join(import.meta.dirname, "zip-child.ts");

/** writeZip alone over the same files, in a child of its own: its time and peak RSS. */
async function zipInChild(
  world: World,
  pool: Pool,
  cards: number,
): Promise<{ seconds: number; peakRssMiB: number }> {
  const list = path.join(world.root, `zip-${cards}.json`);
  await writeFile(list, JSON.stringify(pool.zipEntries(cards)));
  const args = [list, path.join(world.root, `zip-${cards}.zip`)];
  const child = spawnTsx(ZIP_CHILD, args, world.env(), path.join(world.root, "zip-child.log"));
  const code = await child.exited;
  const line = child.stdout().trim().split("\n").at(-1) ?? "";
  if (code !== 0 || !line.startsWith("{")) {
    throw new Error(`zip child for ${cards} cards exited with ${code}:\n${await tail(child.logFile)}`);
  }
  const r = JSON.parse(line) as { ms: number; peakRssKiB: number };
  return { seconds: r.ms / 1000, peakRssMiB: r.peakRssKiB / 1024 };
}

async function exportInChild(world: World, campaignId: string): Promise<ChildReport> {
  const child = spawnTsx(EXPORT_CHILD, [campaignId], world.env(), path.join(world.root, "export-child.log"));
  const code = await child.exited;
  const line = child.stdout().trim().split("\n").at(-1) ?? "";
  if (code !== 0 || !line.startsWith("{")) {
    throw new Error(`export child for ${campaignId} exited with ${code}:\n${await tail(child.logFile)}`);
  }
  return JSON.parse(line) as ChildReport;
}

/**
 * The drop as users run it: the built CLI, `node dist/cli/main.js export CAMPAIGN --now --as STAFF`
 * with the staff account's token, plus a plain-JS preload (rss-at-exit.mjs) that writes its VmHWM at exit.
 */
async function exportWithBuiltCli(
  world: World,
  campaignId: string,
  staffToken: string,
  cards: number,
): Promise<{ seconds: number; peakRssKiB: number }> {
  const rssFile = path.join(world.root, `rss-${campaignId}.json`);
  const t0 = now();
  const child = spawnNode(
    ["--import", RSS_AT_EXIT, BUILT_CLI_MAIN, "export", campaignId, "--now", "--as", STAFF],
    { ...world.env(), TESTIMONY_TOKEN: staffToken, BENCH_RSS_FILE: rssFile },
    path.join(world.root, "export-cli.log"),
  );
  const code = await child.exited;
  const seconds = (now() - t0) / 1000;
  const said = /: (\d+) outputs, /.exec(child.stdout());
  if (code !== 0 || Number(said?.[1]) !== cards) {
    throw new Error(
      `testimony export ${campaignId} exited with ${code}, expected ${cards} outputs:\n${await tail(child.logFile)}`,
    );
  }
  const r = JSON.parse(await readFile(rssFile, "utf8")) as { peakRssKiB: number };
  return { seconds, peakRssKiB: r.peakRssKiB };
}

/** `cp -r` of the same files (the folders `srcs`, into `dst`), the floor for moving these bytes on this disk. */
async function timedCp(srcs: string[], dst: string): Promise<number> {
  await mkdir(dst, { recursive: true });
  const t0 = now();
  await new Promise<void>((resolve, reject) => {
    const cp = spawn("cp", ["-r", ...srcs, dst], { stdio: "ignore" });
    cp.once("error", reject);
    cp.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`cp -r exited with ${code}`))));
  });
  const seconds = (now() - t0) / 1000;
  await rm(dst, { recursive: true, force: true });
  return seconds;
}

async function exportRep(
  world: World,
  pool: Pool,
  cards: number,
  campaignId: string,
  staffToken: string,
): Promise<ExportRep> {
  await benchCampaign(world.store, campaignId);
  await approvedOutputs(world.store, pool, campaignId, campaignId, cards);
  const r = await exportInChild(world, campaignId);
  if (r.status !== "written" || r.outputs !== cards) {
    throw new Error(`${campaignId}: export ${r.status} with ${r.outputs} of ${cards} outputs`);
  }
  await rm(path.join(world.exportDir, campaignId), { recursive: true, force: true });
  // The same drop again (a campaign of its own, same files) through the built CLI.
  const cliCampaign = `${campaignId}-cli`;
  await benchCampaign(world.store, cliCampaign);
  await approvedOutputs(world.store, pool, cliCampaign, cliCampaign, cards);
  const cli = await exportWithBuiltCli(world, cliCampaign, staffToken, cards);
  await rm(path.join(world.exportDir, cliCampaign), { recursive: true, force: true });
  // Exactly this drop's files: the pool's parts that hold its outputs.
  const cpSeconds = await timedCp(pool.dirsOf(cards), path.join(world.root, `cp-${campaignId}`));
  const zipOnly = await zipInChild(world, pool, cards);
  const filesMiB = pool.bytesOf(cards) / 1024 ** 2;
  const zipMiB = r.zipBytes / 1024 ** 2;
  const sec = (ms?: number) => (ms ?? Number.NaN) / 1000;
  return {
    cards,
    exportSeconds: r.ms / 1000,
    zipMiB,
    exportMiBps: zipMiB / (r.ms / 1000),
    cpSeconds,
    filesMiB,
    cpMiBps: filesMiB / cpSeconds,
    peakRssMiB: cli.peakRssKiB / 1024,
    cliSeconds: cli.seconds,
    tsxPeakRssMiB: r.peakRssKiB / 1024,
    maxRssMiB: r.maxRssKiB / 1024,
    baselineRssMiB: r.baselineRssKiB / 1024,
    zipOnlySeconds: zipOnly.seconds,
    zipOnlyMiBps: zipMiB / zipOnly.seconds,
    zipOnlyPeakRssMiB: zipOnly.peakRssMiB,
    fdTable: r.fdTable,
    steps: {
      reserve: sec(r.stepsMs.reserved),
      write: sec((r.stepsMs.written ?? Number.NaN) - (r.stepsMs.reserved ?? Number.NaN)),
      rename: sec((r.stepsMs.renamed ?? Number.NaN) - (r.stepsMs.written ?? Number.NaN)),
      mark: sec(r.ms - (r.stepsMs.renamed ?? Number.NaN)),
    },
  };
}

/** Export of bundles of each size (a child process per drop) against `cp -r` of the same files. */
export async function runExportBench(
  run: { runId: string; runRoot: string },
  opts: { sizes: number[]; reps: number },
): Promise<ExportResult> {
  progress(`export: ${await ensureBuilt()} (the drop runs the built CLI, as users do)`);
  const world = await openWorld(run.runId, run.runRoot, "export");
  try {
    const seeded = await seed(world.store, { quotes: 500 });
    const brand = await benchCampaign(world.store, "exp-brand");
    const largest = Math.max(...opts.sizes);
    const smallest = Math.min(...opts.sizes);
    progress(`export: writing ${largest} pooled outputs (8 real cards copied, real text variants)`);
    const pool = await buildPool(
      world.store,
      world.dataDir,
      brand,
      seeded.quotes,
      seeded.speakers,
      largest,
      smallest,
    );
    progress("export: warm-up (cp -r of the pool, one drop)");
    await timedCp([pool.rootDir], path.join(world.root, "cp-warm"));
    await exportRep(world, pool, smallest, "exp-warm", seeded.staffToken);
    const bySize = new Map<number, ExportRep[]>(opts.sizes.map((s) => [s, []]));
    for (let r = 0; r < opts.reps; r++) {
      for (const size of opts.sizes) {
        const rep = await exportRep(world, pool, size, `exp${size}-r${r + 1}`, seeded.staffToken);
        bySize.get(size)!.push(rep);
        progress(
          `export rep ${r + 1}/${opts.reps}, ${size} cards: ${rep.exportSeconds.toFixed(2)} s = ${rep.exportMiBps.toFixed(0)} MiB/s ` +
            `(cp -r ${rep.cpMiBps.toFixed(0)} MiB/s), peak RSS built CLI ${rep.peakRssMiB.toFixed(0)} MiB in ${rep.cliSeconds.toFixed(2)} s, tsx child ${rep.tsxPeakRssMiB.toFixed(0)} MiB (writeZip alone ${rep.zipOnlyPeakRssMiB.toFixed(0)} MiB), fd table ${rep.fdTable}`,
        );
      }
    }
    return {
      sizes: opts.sizes.map((cards) => {
        const reps = bySize.get(cards)!;
        const m = (f: (r: ExportRep) => number) => median(reps.map(f));
        return {
          cards,
          reps,
          median: {
            exportSeconds: m((r) => r.exportSeconds),
            zipMiB: m((r) => r.zipMiB),
            exportMiBps: m((r) => r.exportMiBps),
            cpSeconds: m((r) => r.cpSeconds),
            filesMiB: m((r) => r.filesMiB),
            cpMiBps: m((r) => r.cpMiBps),
            peakRssMiB: m((r) => r.peakRssMiB),
            peakRssMaxMiB: Math.max(...reps.map((r) => r.peakRssMiB)),
            cliSeconds: m((r) => r.cliSeconds),
            tsxPeakRssMiB: m((r) => r.tsxPeakRssMiB),
            tsxPeakRssMaxMiB: Math.max(...reps.map((r) => r.tsxPeakRssMiB)),
            maxRssMiB: m((r) => r.maxRssMiB),
            baselineRssMiB: m((r) => r.baselineRssMiB),
            zipOnlySeconds: m((r) => r.zipOnlySeconds),
            zipOnlyMiBps: m((r) => r.zipOnlyMiBps),
            zipOnlyPeakRssMiB: m((r) => r.zipOnlyPeakRssMiB),
            fdTable: m((r) => r.fdTable),
            steps: {
              reserve: m((r) => r.steps.reserve),
              write: m((r) => r.steps.write),
              rename: m((r) => r.steps.rename),
              mark: m((r) => r.steps.mark),
            },
          },
        };
      }),
    };
  } finally {
    await world.dispose();
  }
}
