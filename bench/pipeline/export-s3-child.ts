/**
 * One drop in a process of its own, on the storage STORAGE_URL names (disk or s3://…), so its peak RSS
 * is the export's alone:
 *   KEY_PREFIX=… DATA_DIR=… EXPORT_DIR=… STORAGE_URL=… S3_…=… node --import tsx bench/pipeline/export-s3-child.ts CAMPAIGN
 * The same exportSlot call as `testimony export --now` (files and bundles from createStorage), no
 * delivery queue. Prints one JSON line: status, outputs, the zip's size, time and peak RSS (VmHWM).
 */
import { pino } from "pino";
import { exportSlot } from "../../src/app/export.service.js";
import { loadConfig } from "../../src/config.js";
import { createStorage } from "../../src/storage/index.js";
import { connectRedis } from "../../src/store/redis.js";
import { createStore } from "../../src/store/store.js";
import { STAFF } from "./fixtures.js";
import { ownPeakRssKiB } from "./own-rss.js";

const campaignId = process.argv[2];
if (!campaignId) throw new Error("usage: export-s3-child.ts CAMPAIGN");
const config = loadConfig(process.env);
const redis = connectRedis(config.redisUrl, "command");
const store = createStore(redis, config.keyPrefix);
await redis.ping();
const baseline = await ownPeakRssKiB();
const t0 = performance.now();
const result = await exportSlot(
  {
    store,
    dataDir: config.dataDir,
    exportDir: config.exportDir,
    ...createStorage(config),
    log: pino({ level: "silent" }),
  },
  { campaignId, slot: new Date(Math.floor(Date.now() / 1000) * 1000), actor: STAFF },
);
const ms = performance.now() - t0;
const peak = await ownPeakRssKiB();
const bundle = result.status === "empty" ? undefined : result.bundle;
process.stdout.write(
  `${JSON.stringify({
    status: result.status,
    storage: config.storage.kind,
    outputs: bundle?.outputIds.length ?? 0,
    zipBytes: bundle?.bytes ?? 0,
    dir: bundle?.dir,
    ms,
    baselineRssKiB: baseline.vmHwmKiB,
    peakRssKiB: peak.vmHwmKiB,
  })}\n`,
);
await redis.quit();
