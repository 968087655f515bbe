// One export in its own process (tests and drills) that SIGKILLs itself right after the named step of exportSlot
// ("written": zip and manifest in the hidden temp folder, not yet renamed; "renamed": in place, not yet
// marked exported; or between two batches: "reserve-batch", "mark-batch", "release-batch", the first time
// one comes). "none" runs to the end. EXPORT_BATCH sets the outputs per batch (default 256).
import { pino } from "pino";
import { type ExportStep, exportSlot } from "../../src/app/export.service.js";
import { connectRedis } from "../../src/store/redis.js";
import { createStore } from "../../src/store/store.js";

const [redisUrl, prefix, dataDir, exportDir, campaignId, slot, crashAt] = process.argv.slice(2) as string[];
const redis = connectRedis(redisUrl!, "command");
const store = createStore(redis, prefix!);
const result = await exportSlot(
  {
    store,
    dataDir: dataDir!,
    exportDir: exportDir!,
    log: pino({ level: "info" }, pino.destination(2)),
    batch: process.env.EXPORT_BATCH ? Number(process.env.EXPORT_BATCH) : undefined,
    afterStep: (step: ExportStep) => {
      process.stderr.write(`step ${step}\n`);
      if (step === crashAt) process.kill(process.pid, "SIGKILL");
    },
  },
  { campaignId: campaignId!, slot: new Date(slot!), actor: "drill" },
);
process.stdout.write(`${result.status}\n`);
await redis.quit();
