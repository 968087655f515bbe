import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Worker } from "bullmq";
import type { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addUser } from "../../src/app/users.service.js";
import { move } from "../../src/domain/output.js";
import { buildApp } from "../../src/http/app.js";
import { closeQueues, createQueues, type Queues } from "../../src/queues/queues.js";
import { loadTextTemplates } from "../../src/render/text/text.render.js";
import { type BlockingRedis, connectRedis } from "../../src/store/redis.js";
import { createStore } from "../../src/store/store.js";
import { createRenderWorker } from "../../src/workers/render.worker.js";
import { aCampaign, anOutput, aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { freePort, sleep, until } from "../support/poll.js";

// A Redis of this test's own (never the shared one on 6379): its maxmemory is lowered under it.
let server: ChildProcess;
let dir: string;
let url: string;
let admin: Redis;
let workerConn: BlockingRedis;
let queues: Queues;
let worker: Worker | undefined;
const lines: { level: number; msg: string; errors?: number }[] = [];
const log = pino({ level: "info" }, { write: (s: string) => lines.push(JSON.parse(s)) });

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "tm-oom-"));
  const port = await freePort();
  url = `redis://127.0.0.1:${port}`;
  // biome-ignore format: one flag and its value per line
  server = spawn("redis-server", [
    "--port", String(port), "--bind", "127.0.0.1", "--dir", dir,
    "--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction",
  ], { stdio: "ignore" });
  admin = connectRedis(url, "command");
  admin.on("error", () => {}); // until it is up
  await until("the test's Redis", () => admin.ping().then((r) => r === "PONG"), 10_000);
  workerConn = connectRedis(url, "worker");
  workerConn.on("error", () => {});
});
afterAll(async () => {
  await worker?.close();
  await closeQueues(queues);
  await workerConn.quit();
  await admin.quit();
  server.kill("SIGKILL");
  await once(server, "exit").catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe("render worker under Redis out of memory", () => {
  it("backs off: a few log lines a second (not thousands), then renders again once Redis has memory", async () => {
    const store = createStore(admin, "oom");
    queues = createQueues(admin, store.keys);
    await queues.render.addBulk(
      Array.from({ length: 20 }, (_, i) => ({ name: "render", data: { outputId: `o-missing-${i}` } })),
    );
    const used = Number(/used_memory:(\d+)/.exec(await admin.info("memory"))![1]);
    await admin.config("SET", "maxmemory", String(Math.floor(used * 0.9))); // every write now fails with OOM
    worker = createRenderWorker(
      { store: createStore(workerConn, "oom"), dataDir: dir, templates: loadTextTemplates(), log },
      workerConn,
      store.keys,
      { concurrency: 2, backoff: { baseMs: 200, maxMs: 1000 } },
    );
    const started = Date.now();
    await sleep(3000); // measuring a rate over a window: the one place a fixed wait is the point
    const seconds = (Date.now() - started) / 1000;
    const warnings = lines.filter((l) => l.level >= 40);
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings.length / seconds).toBeLessThan(5);
    expect(warnings.at(-1)!.msg).toMatch(/Redis is out of memory; pausing, then retrying/);

    await admin.config("SET", "maxmemory", "0");
    // The jobs name outputs that do not exist: each fails for good, which shows the worker runs again.
    await until("the jobs processed", async () => (await queues.render.getFailedCount()) === 20, 15_000);
    expect(lines.some((l) => /Redis accepts work again/.test(l.msg))).toBe(true);
  });

  it("the API answers 503 with Retry-After, not 500, and /health says degraded with the reason", async () => {
    const store = createStore(admin, "oom-api");
    const { token } = await addUser(store, "staff1", ["staff"], "test");
    await saveAll(store, { campaigns: [aCampaign()] });
    const app = buildApp({
      store,
      queues: createQueues(admin, store.keys),
      templates: loadTextTemplates(),
      dataDir: dir,
      exportDir: path.join(dir, "exports"),
      log,
    });
    await app.ready();
    try {
      expect((await app.inject({ url: "/health" })).statusCode).toBe(200);
      const used = Number(/used_memory:(\d+)/.exec(await admin.info("memory"))![1]);
      await admin.config("SET", "maxmemory", String(Math.floor(used * 0.9)));
      const health = await app.inject({ url: "/health" });
      expect(health.statusCode).toBe(503);
      expect(health.json()).toMatchObject({ status: "degraded", redis: { writable: false } });
      expect(health.json().redis.reason).toMatch(/^OOM/);
      const write = await app.inject({
        method: "POST",
        url: "/api/campaigns/why-they-left/pause",
        headers: { authorization: `Bearer ${token}` },
      });
      expect([write.statusCode, write.json().error]).toEqual([503, "unavailable"]);
      expect(write.headers["retry-after"]).toBeDefined();
    } finally {
      await admin.config("SET", "maxmemory", "0");
      await app.close();
    }
  });
  it("a commit refused for lack of memory writes nothing: no index entry or counter moves first", async () => {
    const store = createStore(admin, "oom-commit");
    const quote = aQuote("q1", "s1");
    await saveAll(store, { speakers: [aSpeaker("s1")], quotes: [quote] });
    const o = await anOutput(store, dir, quote, { status: "in_review" });
    const v = (await store.outputs.get(o.id))!;
    const where = async () => ({
      rev: (await store.outputs.get(o.id))!.rev,
      inReview: await store.outputs.ids([`campaign:${o.campaignId}:status:in_review`]),
      approved: await store.outputs.ids(["status:approved"]),
      counts: await store.outputs.counts(`campaign:${o.campaignId}`),
    });
    const before = await where();
    const approved = move(v.value, "approved", "2026-02-01T00:00:00.000Z");
    try {
      const used = Number(/used_memory:(\d+)/.exec(await admin.info("memory"))![1]);
      await admin.config("SET", "maxmemory", String(Math.floor(used * 0.9)));
      // Its first write must be one Redis refuses under OOM (a ZREM is not, and after one write a
      // script runs to its end).
      await expect(store.outputs.commit({ writes: [store.outputs.write(approved, v)] })).rejects.toThrow(
        /OOM/,
      );
    } finally {
      await admin.config("SET", "maxmemory", "0");
    }
    expect(await where()).toEqual(before);
    expect(before.inReview).toEqual([o.id]);
  });
});
