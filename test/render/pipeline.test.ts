import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Worker } from "bullmq";
import { pino } from "pino";
import sharp from "sharp";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { queueCampaign } from "../../src/app/queue.service.js";
import { changeVetting } from "../../src/app/quotes.service.js";
import { closeQueues, createQueues, type Queues } from "../../src/queues/queues.js";
import { sha256 } from "../../src/render/files.js";
import { loadTextTemplates } from "../../src/render/text/text.render.js";
import { type BlockingRedis, connectRedis } from "../../src/store/redis.js";
import { createStore, type Store } from "../../src/store/store.js";
import { createRenderWorker } from "../../src/workers/render.worker.js";
import { aCampaign, aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { until } from "../support/poll.js";
import { REDIS_URL, testStore } from "../support/redis.js";

const templates = loadTextTemplates();
const log = pino({ level: "silent" });
// Fresh fixtures per test (prefix, data dir, queues, worker connection; closed after it), so each test
// runs alone and in any order.
let t: ReturnType<typeof testStore>;
let dataDir: string;
let queues: Queues;
let worker: Worker | undefined;
let workerConn: BlockingRedis;

function settle(store: Store, ids: string[], timeoutMs = 20_000) {
  return until(
    `${ids.length} renders to settle`,
    async () => {
      const outs = (await store.outputs.getMany(ids)).map((v) => v.value);
      return outs.every((o) => o.status !== "queued" && o.status !== "rendering") && outs;
    },
    timeoutMs,
    50,
  );
}

const startWorker = () => {
  worker = createRenderWorker(
    { store: createStore(workerConn, t.prefix), dataDir, templates, log },
    workerConn,
    t.store.keys,
    {
      concurrency: 2,
      lockDuration: 2000,
      stalledInterval: 1000,
    },
  );
};

beforeEach(async () => {
  t = testStore("pipeline");
  workerConn = connectRedis(REDIS_URL, "worker");
  dataDir = await mkdtemp(path.join(tmpdir(), "tm-render-"));
  queues = createQueues(t.redis, t.store.keys);
  await saveAll(t.store, {
    campaigns: [aCampaign({ formats: ["square", "landscape"] })],
    speakers: [aSpeaker("s1"), aSpeaker("s2", { attribution: "anonymous" })],
    quotes: [
      aQuote("q1", "s1", { text: "This is not a holy war" }),
      aQuote("q2", "s2", {
        text: "الدولة الإسلامية لا تحمي المسلمين. إنها تقتلهم.",
        locale: "ar",
        narrative: "brutality",
      }),
      aQuote("q3", "s1", { vetting: { state: "pending" } }),
    ],
  });
});
afterEach(async () => {
  await worker?.close();
  worker = undefined;
  await closeQueues(queues);
  await workerConn.quit();
  await rm(dataDir, { recursive: true, force: true });
  await t.cleanup();
});

const queueAll = (actor = "staff1") =>
  queueCampaign(t.store, queues, { campaignId: "why-they-left", actor, templateVersion: templates.version });

describe("render pipeline (real Redis, BullMQ and sharp)", () => {
  it("renders every vetted quote × format to in_review with a real card, its size, and texts on the record", async () => {
    startWorker();
    const r = await queueCampaign(t.store, queues, {
      campaignId: "why-they-left",
      actor: "staff1",
      templateVersion: templates.version,
    });
    expect(r).toMatchObject({ created: 4, existing: 0, jobsAdded: 4 });
    const outs = await settle(t.store, r.outputIds);
    expect(outs.map((o) => o.status)).toEqual(["in_review", "in_review", "in_review", "in_review"]);
    for (const o of outs) {
      const meta = await sharp(path.join(dataDir, o.files!.card)).metadata();
      expect([meta.width, meta.height]).toEqual(o.format === "square" ? [1080, 1080] : [1200, 675]);
      expect(o.cardBytes).toBe((await stat(path.join(dataDir, o.files!.card))).size);
      // One file per output: the texts live on the record, their sha256 listed under files.text's keys.
      await expect(stat(path.join(dataDir, o.files!.text.post!))).rejects.toThrow(/ENOENT/);
      expect(o.sha256![o.files!.text.post!]).toBe(sha256(o.variants!.post!));
      expect(o.queuedBy).toBe("staff1");
    }
    const ar = outs.find((o) => o.locale === "ar")!;
    expect(ar.direction).toBe("rtl");
    expect(ar.published?.attribution).toBe("مقاتل سابق");
    const audit = await t.store.audit.list();
    expect(audit.filter((a) => a.action === "output.rendered")).toHaveLength(4);
  });

  it("queueing the same campaign twice creates no new output, job or file; changing the quote text does", async () => {
    startWorker();
    await settle(t.store, (await queueAll()).outputIds);
    const filesBefore = (await readdir(path.join(dataDir, "outputs", "why-they-left"))).sort();
    const again = await queueCampaign(t.store, queues, {
      campaignId: "why-they-left",
      actor: "staff2",
      templateVersion: templates.version,
    });
    expect(again).toMatchObject({ created: 0, existing: 4, jobsAdded: 0 });
    expect(await queues.render.getJobCountByTypes("waiting", "active", "delayed")).toBe(0);
    expect((await readdir(path.join(dataDir, "outputs", "why-they-left"))).sort()).toEqual(filesBefore);
    expect((await t.store.outputs.get(again.outputIds[0]!))!.value.queuedBy).toBe("staff1");

    const q1 = (await t.store.quotes.get("q1"))!;
    await t.store.quotes.commit({
      writes: [t.store.quotes.write({ ...q1.value, text: "This is not a holy war." }, q1)],
    });
    const edited = await queueCampaign(t.store, queues, {
      campaignId: "why-they-left",
      actor: "staff1",
      templateVersion: templates.version,
    });
    expect(edited).toMatchObject({ created: 2, existing: 2, jobsAdded: 2 });
    await settle(t.store, edited.outputIds);
  });

  it("records why an output failed: quote retired after queueing, variant over its limit, text that cannot fit", async () => {
    const long = "word ".repeat(200).trim(); // 999 characters: the post variant is over 280
    const huge = "Unbreakablewordthatgoesonandon".repeat(33).slice(0, 1000);
    await saveAll(t.store, {
      quotes: [
        aQuote("q-retire", "s1", { text: "Retired before render" }),
        aQuote("q-long", "s1", { text: long }),
        aQuote("q-huge", "s1", { text: huge }),
      ],
    });
    const r = await queueCampaign(t.store, queues, {
      campaignId: "why-they-left",
      actor: "staff1",
      templateVersion: templates.version,
      quoteIds: ["q-retire", "q-long", "q-huge"],
    });
    await changeVetting(t.store, "q-retire", "retire", "vetter");
    startWorker();
    const outs = await settle(t.store, r.outputIds);
    const reason = (quoteId: string) =>
      outs.filter((o) => o.quoteId === quoteId).map((o) => [o.status, o.failure?.reason]);
    expect(reason("q-retire")).toEqual([
      ["failed", "quote_not_vetted"],
      ["failed", "quote_not_vetted"],
    ]);
    expect(reason("q-long")).toEqual([
      ["failed", "variant_too_long"],
      ["failed", "variant_too_long"],
    ]);
    expect(outs.find((o) => o.quoteId === "q-long")!.failure!.message).toMatch(
      /^post is \d+ characters, over its limit of 280$/,
    );
    const huge2 = outs.filter((o) => o.quoteId === "q-huge");
    expect(
      huge2.some((o) => o.failure?.reason === "cannot_fit" || o.failure?.reason === "variant_too_long"),
    ).toBe(true);
    for (const o of outs) expect(o.failure!.attempts).toBe(1); // permanent failures are not retried
  });

  it("a worker SIGKILLed mid-render: the job comes back as stalled and the output ends in_review exactly once", async () => {
    await saveAll(t.store, {
      quotes: Array.from({ length: 6 }, (_, i) =>
        aQuote(`q-kill-${i}`, "s1", {
          text: `${"Life under them was harsh and nothing like the videos. ".repeat(3)}${i}`,
        }),
      ),
    });
    const r = await queueCampaign(t.store, queues, {
      campaignId: "why-they-left",
      actor: "staff1",
      templateVersion: templates.version,
      quoteIds: Array.from({ length: 6 }, (_, i) => `q-kill-${i}`),
    });
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        path.join(import.meta.dirname, "..", "children", "render-worker-child.ts"),
        REDIS_URL,
        t.prefix,
        dataDir,
      ],
      {
        stdio: ["ignore", "pipe", "ignore"],
      },
    );
    // Kill it the moment an output is being rendered.
    const exited = new Promise((res) => child.once("exit", res));
    const killedWhile = await until(
      "an output being rendered",
      async () => (await t.store.outputs.getMany(r.outputIds)).find((v) => v.value.status === "rendering"),
      45_000, // a tsx child starting on busy cores can take tens of seconds
      2,
    );
    child.kill("SIGKILL");
    expect(killedWhile.value.status).toBe("rendering");
    await exited;
    startWorker();
    const outs = await settle(t.store, r.outputIds, 60_000);
    expect(outs.map((o) => [o.status, o.failure?.message])).toEqual(outs.map(() => ["in_review", undefined]));
    const rendered = (await t.store.audit.list()).filter(
      (a) => a.action === "output.rendered" && r.outputIds.includes(a.entity),
    );
    expect(rendered).toHaveLength(r.outputIds.length);
    expect(new Set(rendered.map((a) => a.entity)).size).toBe(r.outputIds.length);
  }, 120_000);
});
