/**
 * One drop in a process of its own, so its peak RSS is the export's alone:
 *   KEY_PREFIX=… DATA_DIR=… EXPORT_DIR=… node --import tsx bench/pipeline/export-child.ts CAMPAIGN
 * Prints one JSON line: timings of each crash-safe step, the zip's size and the process's peak RSS
 * (VmHWM; maxRSS too, see own-rss.ts for why it is not the figure).
 */
import { readFile } from "node:fs/promises";
import { pino } from "pino";
import { favourMemoryForDrop } from "../../src/app/export/memory.js";
import { type ExportStep, exportSlot } from "../../src/app/export.service.js";
import { loadConfig } from "../../src/config.js";
import { connectRedis } from "../../src/store/redis.js";
import { createStore } from "../../src/store/store.js";
import { STAFF } from "./fixtures.js";
import { ownPeakRssKiB } from "./own-rss.js";

// As `testimony export --now` does, so both measure the same drop.
favourMemoryForDrop();
const campaignId = process.argv[2];
if (!campaignId) throw new Error("usage: export-child.ts CAMPAIGN");
const config = loadConfig(process.env);
const redis = connectRedis(config.redisUrl, "command");
const store = createStore(redis, config.keyPrefix);
await redis.ping();
const baseline = await ownPeakRssKiB();

const steps: Partial<Record<ExportStep, number>> = {};
const t0 = performance.now();
const result = await exportSlot(
  {
    store,
    dataDir: config.dataDir,
    exportDir: config.exportDir,
    log: pino({ level: "silent" }),
    afterStep: (step) => {
      steps[step] = performance.now() - t0;
    },
  },
  { campaignId, slot: new Date(Math.floor(Date.now() / 1000) * 1000), actor: STAFF },
);
const ms = performance.now() - t0;
const peak = await ownPeakRssKiB();
// FDSize grows (in powers of two) to hold the most descriptors ever open at once and never shrinks.
const status = await readFile("/proc/self/status", "utf8").catch(() => "");
const fdTable = Number(/FDSize:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
const bundle = result.status === "empty" ? undefined : result.bundle;
process.stdout.write(
  `${JSON.stringify({
    status: result.status,
    outputs: bundle?.outputIds.length ?? 0,
    zipBytes: bundle?.bytes ?? 0,
    dir: bundle ? `${config.exportDir}/${bundle.campaignId}` : undefined,
    ms,
    stepsMs: steps,
    baselineRssKiB: baseline.vmHwmKiB,
    peakRssKiB: peak.vmHwmKiB,
    maxRssKiB: peak.maxRssKiB,
    fdTable,
  })}\n`,
);
await redis.quit();
