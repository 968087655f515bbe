// Runs one export in its own process and SIGKILLs itself right after the named step (crash drills).
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
    log: pino({ level: "silent" }),
    afterStep: (step: ExportStep) => {
      if (step === crashAt) process.kill(process.pid, "SIGKILL");
    },
  },
  { campaignId: campaignId!, slot: new Date(slot!), actor: "drill" },
);
process.stdout.write(`${result.status}\n`);
await redis.quit();
