// A render worker in its own process, so a test or a drill can SIGKILL it mid-render. The same createRenderWorker
// as `testimony work`, with a 2 s lock and a 1 s stall check so a killed job comes back within seconds
// (`testimony work` uses a 10 s lock and a 5 s check: the same recovery, a little slower).
import { pino } from "pino";
import { loadTextTemplates } from "../../src/render/text/text.render.js";
import { connectRedis } from "../../src/store/redis.js";
import { createStore } from "../../src/store/store.js";
import { createRenderWorker } from "../../src/workers/render.worker.js";

const [redisUrl, prefix, dataDir, concurrency] = process.argv.slice(2) as [string, string, string, string];
const conn = connectRedis(redisUrl, "worker");
const store = createStore(conn, prefix);
const worker = createRenderWorker(
  { store, dataDir, templates: loadTextTemplates(), log: pino({ level: "info" }, pino.destination(2)) },
  conn,
  store.keys,
  { concurrency: Number(concurrency) || 1, lockDuration: 2000, stalledInterval: 1000 },
);
await worker.waitUntilReady();
process.stdout.write(`ready ${process.pid}\n`);
