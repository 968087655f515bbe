// A render worker in its own process, so a test can SIGKILL it mid-render.
import { pino } from "pino";
import { loadTextTemplates } from "../../src/render/text/text.render.js";
import { connectRedis } from "../../src/store/redis.js";
import { createStore } from "../../src/store/store.js";
import { createRenderWorker } from "../../src/workers/render.worker.js";

const [redisUrl, prefix, dataDir] = process.argv.slice(2) as string[];
const conn = connectRedis(redisUrl!, "worker");
const store = createStore(conn, prefix!);
createRenderWorker(
  { store, dataDir: dataDir!, templates: loadTextTemplates(), log: pino({ level: "silent" }) },
  conn,
  store.keys,
  {
    concurrency: 1,
    lockDuration: 2000,
    stalledInterval: 1000,
  },
);
process.stdout.write("ready\n");
