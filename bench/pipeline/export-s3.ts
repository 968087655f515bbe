/**
 * Export to S3 vs to disk on the same drop (issue 15's benchmark): the same approved outputs, the same
 * files (the export bench's pool, uploaded once to the bucket under the same keys), the same exportSlot
 * in a child process of its own (export-s3-child.ts), alternating disk and S3 per repetition.
 *
 *   bash scripts/ensure-s3.sh && npm run bench:export-s3 -- --sizes 1000,4000 --reps 3
 *     → bench/results/export-s3.{md,json}
 *
 * On disk the export reads cards from DATA_DIR and writes EXPORT_DIR; on S3 it streams each card and
 * text from the bucket into its temporary folder (8 at a time), writes and checks the zip there, then
 * streams bundle.zip and manifest.json to the bucket (8 MiB multipart parts). Throughput is the zip's
 * MiB over the drop's wall time; peak RSS is the child's own VmHWM (flat in the drop's size is the aim).
 * Needs the local S3 server (scripts/ensure-s3.sh) or S3_ENDPOINT and the S3_* credentials.
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { ensureBucket, type S3Settings, s3BlobStore, s3Client } from "../../src/storage/s3.js";
import { approvedOutputs, buildPool } from "./export-pool.js";
import { benchCampaign, seed } from "./fixtures.js";
import { killAllChildren, spawnTsx, tail } from "./processes.js";
import { f0, f1, f2, inLanes, median, progress } from "./stats.js";
import { disposeAllWorlds, newRunId, newRunRoot, openWorld, type World } from "./world.js";

const CHILD = path.join(import.meta.dirname, "export-s3-child.ts");
const S3 = {
  S3_ENDPOINT: process.env.S3_ENDPOINT ?? "http://127.0.0.1:9400",
  S3_REGION: process.env.S3_REGION ?? "us-east-1",
  S3_ACCESS_KEY_ID: process.env.S3_ACCESS_KEY_ID ?? "testimony:ci",
  S3_SECRET_ACCESS_KEY: process.env.S3_SECRET_ACCESS_KEY ?? "testimony-local-s3-secret",
};
type Backend = "disk" | "s3";
type ChildReport = {
  status: string;
  storage: Backend;
  outputs: number;
  zipBytes: number;
  ms: number;
  baselineRssKiB: number;
  peakRssKiB: number;
};
export type ExportS3Rep = {
  cards: number;
  backend: Backend;
  seconds: number;
  zipMiB: number;
  MiBps: number;
  peakRssMiB: number;
  baselineRssMiB: number;
};
export type ExportS3Size = {
  cards: number;
  zipMiB: number;
  median: Record<Backend, { seconds: number; MiBps: number; peakRssMiB: number; peakRssMaxMiB: number }>;
  reps: ExportS3Rep[];
};
export type ExportS3Result = { sizes: ExportS3Size[]; uploadSeconds: number; uploadMiB: number };

async function exportInChild(
  world: World,
  campaignId: string,
  env: Record<string, string>,
): Promise<ChildReport> {
  const child = spawnTsx(CHILD, [campaignId], world.env(env), path.join(world.root, "export-s3-child.log"));
  const code = await child.exited;
  const line = child.stdout().trim().split("\n").at(-1) ?? "";
  if (code !== 0 || !line.startsWith("{")) {
    throw new Error(`export child for ${campaignId} exited with ${code}:\n${await tail(child.logFile)}`);
  }
  return JSON.parse(line) as ChildReport;
}

export async function runExportS3Bench(
  run: { runId: string; runRoot: string },
  opts: { sizes: number[]; reps: number },
): Promise<ExportS3Result> {
  const up = await fetch(`${S3.S3_ENDPOINT}/healthcheck`, { signal: AbortSignal.timeout(3000) }).then(
    (r) => r.ok,
    () => false,
  );
  if (!up)
    throw new Error(`export-s3: nothing answers at ${S3.S3_ENDPOINT}; run bash scripts/ensure-s3.sh first`);
  const world = await openWorld(run.runId, run.runRoot, "export-s3");
  const settings: S3Settings = {
    bucket: `${run.runId}-export`.toLowerCase(),
    prefix: "p/",
    endpoint: S3.S3_ENDPOINT,
    region: S3.S3_REGION,
    accessKeyId: S3.S3_ACCESS_KEY_ID,
    secretAccessKey: S3.S3_SECRET_ACCESS_KEY,
  };
  const client = await s3Client(settings);
  await ensureBucket(settings, client);
  const envOf: Record<Backend, Record<string, string>> = {
    disk: { STORAGE_URL: "disk" },
    s3: { ...S3, STORAGE_URL: `s3://${settings.bucket}/p` },
  };
  const removeUnder = async (prefix: string) => {
    const names: string[] = [];
    for await (const o of client.listObjectsV2(settings.bucket, prefix, true)) if (o.name) names.push(o.name);
    for (let i = 0; i < names.length; i += 1000)
      await client.removeObjects(settings.bucket, names.slice(i, i + 1000));
  };
  try {
    const seeded = await seed(world.store, { quotes: 500 });
    const brand = await benchCampaign(world.store, "exp-brand");
    const largest = Math.max(...opts.sizes);
    const smallest = Math.min(...opts.sizes);
    progress(
      `export-s3: writing ${largest} pooled outputs on disk, then the same files to s3://${settings.bucket}/p/`,
    );
    const pool = await buildPool(
      world.store,
      world.dataDir,
      brand,
      seeded.quotes,
      seeded.speakers,
      largest,
      smallest,
    );
    const files = s3BlobStore(settings);
    const t0 = performance.now();
    await inLanes(largest, 16, async (n) => {
      const item = pool.items[n]!;
      for (const rel of [item.files.card, ...Object.values(item.files.text)]) {
        await files.put(rel, await readFile(path.join(world.dataDir, rel)));
      }
    });
    const uploadSeconds = (performance.now() - t0) / 1000;
    const uploadMiB = pool.bytesOf(largest) / 1024 ** 2;
    progress(
      `export-s3: uploaded ${f0(uploadMiB)} MiB in ${f1(uploadSeconds)} s; warm-up (one drop each way)`,
    );

    const rep = async (cards: number, backend: Backend, campaignId: string): Promise<ExportS3Rep> => {
      await benchCampaign(world.store, campaignId);
      await approvedOutputs(world.store, pool, campaignId, campaignId, cards);
      const r = await exportInChild(world, campaignId, envOf[backend]);
      if (r.status !== "written" || r.outputs !== cards || r.storage !== backend) {
        throw new Error(
          `${campaignId}: ${r.storage} export ${r.status} with ${r.outputs} of ${cards} outputs`,
        );
      }
      await rm(path.join(world.exportDir, campaignId), { recursive: true, force: true });
      if (backend === "s3") await removeUnder(`p/bundles/${campaignId}/`);
      const zipMiB = r.zipBytes / 1024 ** 2;
      return {
        cards,
        backend,
        seconds: r.ms / 1000,
        zipMiB,
        MiBps: zipMiB / (r.ms / 1000),
        peakRssMiB: r.peakRssKiB / 1024,
        baselineRssMiB: r.baselineRssKiB / 1024,
      };
    };
    // A small warm-up each way (a full-size one on S3 would cost minutes on a busy machine).
    const warm = Math.min(smallest, 100);
    await rep(warm, "disk", "s3w-disk");
    await rep(warm, "s3", "s3w-s3");
    const all: ExportS3Rep[] = [];
    for (let r = 0; r < opts.reps; r++) {
      for (const cards of opts.sizes) {
        // Alternate which goes first, so neither always follows the other's page-cache state.
        const order: Backend[] = r % 2 === 0 ? ["disk", "s3"] : ["s3", "disk"];
        for (const backend of order) {
          const x = await rep(cards, backend, `s3x${cards}-${backend}-r${r + 1}`);
          all.push(x);
          progress(
            `export-s3 rep ${r + 1}/${opts.reps}, ${cards} cards, ${backend}: ${f2(x.seconds)} s = ${f1(x.MiBps)} MiB/s, peak RSS ${f0(x.peakRssMiB)} MiB`,
          );
        }
      }
    }
    return {
      uploadSeconds,
      uploadMiB,
      sizes: opts.sizes.map((cards) => {
        const reps = all.filter((x) => x.cards === cards);
        const of = (backend: Backend) => {
          const b = reps.filter((x) => x.backend === backend);
          return {
            seconds: median(b.map((x) => x.seconds)),
            MiBps: median(b.map((x) => x.MiBps)),
            peakRssMiB: median(b.map((x) => x.peakRssMiB)),
            peakRssMaxMiB: Math.max(...b.map((x) => x.peakRssMiB)),
          };
        };
        return {
          cards,
          zipMiB: median(reps.map((x) => x.zipMiB)),
          median: { disk: of("disk"), s3: of("s3") },
          reps,
        };
      }),
    };
  } finally {
    await removeUnder("").catch(() => {});
    await client.removeBucket(settings.bucket).catch(() => {});
    await world.dispose();
  }
}

export function exportS3Markdown(r: ExportS3Result, reps: number): string {
  const rows = r.sizes.map((s) => {
    const d = s.median.disk;
    const x = s.median.s3;
    return `| ${f0(s.cards)} | ${f0(s.zipMiB)} | ${f2(d.seconds)} | ${f1(d.MiBps)} | ${f0(d.peakRssMiB)} (${f0(d.peakRssMaxMiB)}) | ${f2(x.seconds)} | ${f1(x.MiBps)} | ${f0(x.peakRssMiB)} (${f0(x.peakRssMaxMiB)}) | ${f2(x.seconds / d.seconds)} |`;
  });
  return [
    "## Export to S3 vs to disk",
    "",
    `The same approved outputs and files (the export bench's pool: copies of 8 real cards plus real text variants; uploaded once to the local S3 server, ${f0(r.uploadMiB)} MiB in ${f1(r.uploadSeconds)} s), one exportSlot per drop in a child process of its own (bench/pipeline/export-s3-child.ts), disk and S3 alternating. Throughput: zip MiB over the drop's wall time. Peak RSS: the child's VmHWM, median (worst). Median of ${reps}.`,
    "",
    "| cards | zip MiB | disk s | disk MiB/s | disk peak RSS MiB | S3 s | S3 MiB/s | S3 peak RSS MiB | S3 ÷ disk time |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
  ].join("\n");
}

if (process.argv[1] === import.meta.filename) {
  const { values } = parseArgs({
    options: { sizes: { type: "string", default: "1000,4000" }, reps: { type: "string", default: "3" } },
  });
  const sizes = values.sizes!.split(",").map(Number);
  const reps = Math.max(1, Number(values.reps));
  const runId = newRunId();
  const runRoot = newRunRoot(runId);
  const cleanUp = async () => {
    killAllChildren();
    await disposeAllWorlds();
    await rm(runRoot, { recursive: true, force: true });
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => void cleanUp().finally(() => process.exit(130)));
  }
  await mkdir(runRoot, { recursive: true });
  let result: ExportS3Result;
  try {
    result = await runExportS3Bench({ runId, runRoot }, { sizes, reps });
  } finally {
    await cleanUp();
  }
  const md = exportS3Markdown(result, reps);
  const dir = path.join(import.meta.dirname, "..", "results");
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "export-s3.md"), `${md}\n`);
  await writeFile(
    path.join(dir, "export-s3.json"),
    `${JSON.stringify({ runId, reps, ...result }, null, 2)}\n`,
  );
  process.stdout.write(`${md}\n`);
  process.exit(0);
}
