/**
 * What `appendfsync always` costs testimony: approvals per second (the one atomic commit a decision
 * makes, with its audit entry) against a Redis with AOF `everysec` and one with `always`, in the same
 * run, each on a Redis of its own on a free loopback port. Medians of 3 repetitions of N approvals,
 * `concurrency` in flight.
 *
 *   npx tsx bench/fsync.bench.ts [--approvals 2000] [--concurrency 8]
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { RedisProcess } from "../drill/support/redis-process.js";
import { decide } from "../src/app/review.service.js";
import { connectRedis } from "../src/store/redis.js";
import { createStore } from "../src/store/store.js";
import { anOutput, aQuote, aSpeaker, saveAll } from "../test/support/builders.js";

const { values } = parseArgs({
  options: { approvals: { type: "string", default: "2000" }, concurrency: { type: "string", default: "8" } },
});
const approvals = Number(values.approvals);
const concurrency = Number(values.concurrency);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function approvalsPerSecond(fsync: "everysec" | "always", rep: number): Promise<number> {
  const redis = await RedisProcess.create({ name: `fsync-${fsync}`, appendfsync: fsync });
  const dataDir = await mkdtemp(path.join(tmpdir(), "tm-fsync-"));
  await redis.start();
  const conn = connectRedis(redis.url, "command");
  try {
    const store = createStore(conn, `fsync-${rep}`);
    const quote = aQuote("q-fsync", "s-fsync");
    await saveAll(store, { speakers: [aSpeaker("s-fsync")], quotes: [quote] });
    const ids: string[] = [];
    for (let i = 0; i < approvals; i++) {
      ids.push((await anOutput(store, dataDir, quote, { id: `o-fsync-${i}`, status: "in_review" })).id);
    }
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < ids.length) await decide(store, ids[next++]!, "approved", "rev-bench");
      }),
    );
    return approvals / ((performance.now() - started) / 1000);
  } finally {
    await conn.quit();
    await redis.dispose();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const results: Record<string, number[]> = { everysec: [], always: [] };
for (let rep = 0; rep < 3; rep++) {
  // Interleaved, so a change in the machine's load hits both alike.
  for (const fsync of ["everysec", "always"] as const)
    results[fsync]!.push(await approvalsPerSecond(fsync, rep));
}
const every = median(results.everysec!);
const always = median(results.always!);
console.log(`approvals/s, ${approvals} approvals × 3, ${concurrency} in flight (medians):`);
console.log(
  `  appendfsync everysec  ${every.toFixed(0)}   runs ${results.everysec!.map((x) => x.toFixed(0)).join(", ")}`,
);
console.log(
  `  appendfsync always    ${always.toFixed(0)}   runs ${results.always!.map((x) => x.toFixed(0)).join(", ")}`,
);
console.log(`  always ÷ everysec     ${(always / every).toFixed(2)}`);
