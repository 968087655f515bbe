/**
 * writeZip alone in a process of its own, to tell the zip writer's memory from the rest of a drop's:
 *   node --import tsx bench/pipeline/zip-child.ts ENTRIES.json TARGET.zip
 * ENTRIES.json holds cards as file entries and texts in memory (PooledZipEntry); prints one JSON line:
 * ms, zip bytes, peak RSS.
 */
import { readFile, rm } from "node:fs/promises";
import { writeZip, type ZipEntry } from "../../src/export/zip.js";
import type { PooledZipEntry } from "./export-pool.js";
import { ownPeakRssKiB } from "./own-rss.js";

const [entriesFile, target] = process.argv.slice(2);
if (!entriesFile || !target) throw new Error("usage: zip-child.ts ENTRIES.json TARGET.zip");
const entries = (JSON.parse(await readFile(entriesFile, "utf8")) as PooledZipEntry[]).map(
  (e): ZipEntry =>
    "text" in e ? { name: e.name, bytes: Buffer.from(e.text, "utf8"), compress: e.compress } : e,
);
const baseline = await ownPeakRssKiB();
const t0 = performance.now();
const { bytes } = await writeZip(target, entries);
const ms = performance.now() - t0;
const peak = await ownPeakRssKiB();
await rm(target, { force: true });
process.stdout.write(
  `${JSON.stringify({ ms, zipBytes: bytes, baselineRssKiB: baseline.vmHwmKiB, peakRssKiB: peak.vmHwmKiB, maxRssKiB: peak.maxRssKiB })}\n`,
);
