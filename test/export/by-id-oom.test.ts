// Reserve and mark by id under Redis out of memory: the script is refused at its first write (an
// HSET, which may grow memory), before it has written anything, so a batch lands whole or not at all.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Bundle } from "../../src/domain/bundle.js";
import { createExportOutputsStore } from "../../src/store/export-outputs.store.js";
import { connectRedis } from "../../src/store/redis.js";
import { createStore } from "../../src/store/store.js";
import { aCampaign, anOutput, aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { freePort, until } from "../support/poll.js";

// A Redis of this test's own (never the shared one on 6379): its maxmemory is lowered under it.
let server: ChildProcess;
let dir: string;
let redis: Redis;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "tm-byid-oom-"));
  const port = await freePort();
  // biome-ignore format: one flag and its value per line
  server = spawn("redis-server", [
    "--port", String(port), "--bind", "127.0.0.1", "--dir", dir,
    "--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction",
  ], { stdio: "ignore" });
  redis = connectRedis(`redis://127.0.0.1:${port}`, "command");
  redis.on("error", () => {}); // until it is up
  await until("the test's Redis", () => redis.ping().then((r) => r === "PONG"), 10_000);
});
afterAll(async () => {
  await redis.quit();
  server.kill("SIGKILL");
  await once(server, "exit").catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

/** Every key and its content: what "nothing was written" is checked against. */
async function everything(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const k of (await redis.keys("*")).sort()) {
    const type = await redis.type(k);
    if (type === "hash") out[k] = await redis.hgetall(k);
    else if (type === "zset") out[k] = await redis.zrange(k, 0, -1, "WITHSCORES");
    else if (type === "set") out[k] = (await redis.smembers(k)).sort();
    else if (type === "stream") out[k] = await redis.xrange(k, "-", "+");
    else out[k] = await redis.get(k);
  }
  return out;
}

async function underOom<T>(fn: () => Promise<T>): Promise<T> {
  const used = Number(/used_memory:(\d+)/.exec(await redis.info("memory"))![1]);
  await redis.config("SET", "maxmemory", String(Math.floor(used * 0.9)));
  try {
    return await fn();
  } finally {
    await redis.config("SET", "maxmemory", "0");
  }
}

describe("reserve and mark by id under Redis out of memory", () => {
  it("a refused batch writes nothing; with memory back the same batch lands whole", async () => {
    const store = createStore(redis, "oom");
    const dataDir = await mkdtemp(path.join(dir, "data-"));
    const quotes = [aQuote("q1", "s1"), aQuote("q2", "s1"), aQuote("q3", "s1")];
    await saveAll(store, { campaigns: [aCampaign()], speakers: [aSpeaker("s1")], quotes });
    const ids: string[] = [];
    for (const q of quotes) ids.push((await anOutput(store, dataDir, q)).id);
    ids.sort();
    const bundle: Bundle = {
      id: "why-they-left/b",
      campaignId: "why-they-left",
      slot: "2026-11-23T06:00:00.000Z",
      status: "writing",
      outputIds: ids,
      takedowns: [],
      dir: "why-they-left/b",
      createdAt: "2026-11-23T06:00:00.000Z",
      createdBy: "staff1",
      owner: "test",
    };
    await store.bundles.commit({ writes: [store.bundles.write(bundle)] });
    const byId = createExportOutputsStore(store);
    const key = { id: bundle.id, campaignId: bundle.campaignId, rev: 1 };
    const mark = () => byId.mark(key, ids, { at: "2026-11-23T06:00:05.000Z", actor: "staff1" });

    let before = await everything();
    await expect(underOom(() => byId.reserve(key, ids))).rejects.toThrow(/OOM/);
    expect(await everything()).toEqual(before);
    expect(await byId.reserve(key, ids)).toEqual({ kind: "done", codes: ["R", "R", "R"] });

    before = await everything();
    await expect(underOom(mark)).rejects.toThrow(/OOM/);
    expect(await everything()).toEqual(before);
    expect(await mark()).toEqual({ kind: "done", codes: ["E", "E", "E"] });
    const outs = await store.outputs.getMany(ids);
    expect(outs.map((v) => v.value.status)).toEqual(["exported", "exported", "exported"]);
  });
});
