import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Worker } from "bullmq";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queueCampaign } from "../../src/app/queue.service.js";
import { retryOutputs } from "../../src/app/retry-outputs.service.js";
import { move } from "../../src/domain/output.js";
import { closeQueues, createQueues, type Queues } from "../../src/queues/queues.js";
import { loadTextTemplates } from "../../src/render/text/text.render.js";
import { connectRedis } from "../../src/store/redis.js";
import { createStore } from "../../src/store/store.js";
import { createRenderWorker } from "../../src/workers/render.worker.js";
import { aCampaign, aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { until } from "../support/poll.js";
import { REDIS_URL, testStore } from "../support/redis.js";

const templates = loadTextTemplates();
const log = pino({ level: "silent" });
const t = testStore("render-retry");
let dataDir: string;
let queues: Queues;
let worker: Worker;
const workerConn = connectRedis(REDIS_URL, "worker");

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "tm-retry-"));
  queues = createQueues(t.redis, t.store.keys);
  await saveAll(t.store, {
    campaigns: [aCampaign({ formats: ["square"] })],
    speakers: [aSpeaker("s1")],
    quotes: [
      aQuote("q1", "s1", { text: "This is not a holy war" }),
      aQuote("q2", "s1", { text: "We were lied to" }),
    ],
  });
  worker = createRenderWorker(
    { store: createStore(workerConn, t.prefix), dataDir, templates, log },
    workerConn,
    t.store.keys,
    { concurrency: 1, lockDuration: 2000, stalledInterval: 1000 },
  );
});
afterAll(async () => {
  await worker.close();
  await closeQueues(queues);
  await workerConn.quit();
  await rm(dataDir, { recursive: true, force: true });
  await t.cleanup();
});

const statusOf = async (id: string) => (await t.store.outputs.get(id))!.value;

describe("failed renders recover", () => {
  it("render onto an unwritable data folder: retried by itself with backoff, rendered once the folder is fixed", async () => {
    // A real filesystem fault: a file stands where the campaign's output folder must be.
    const blocked = path.join(dataDir, "outputs", "why-they-left");
    await mkdir(path.dirname(blocked), { recursive: true });
    await writeFile(blocked, "not a folder");
    const r = await queueCampaign(t.store, queues, {
      campaignId: "why-they-left",
      actor: "staff1",
      templateVersion: templates.version,
      quoteIds: ["q1"],
    });
    const id = r.outputIds[0]!;
    await until(
      "a first failed attempt",
      async () => ((await queues.render.getJob(id))?.attemptsMade ?? 0) >= 1,
      15_000,
    );
    // Not failed: a transient error waits for its next attempt.
    expect((await statusOf(id)).status).toBe("rendering");
    await rm(blocked);
    const done = await until(
      "the output rendered",
      async () => {
        const o = await statusOf(id);
        return o.status === "in_review" ? o : undefined;
      },
      20_000,
    );
    expect(done.attempts).toBeGreaterThanOrEqual(2);
  });

  it("a failed output is retried by hand: audited, rendered again by a fresh job; other states are refused", async () => {
    const r = await queueCampaign(t.store, queues, {
      campaignId: "why-they-left",
      actor: "staff1",
      templateVersion: templates.version,
      quoteIds: ["q2"],
    });
    const id = r.outputIds[0]!;
    await until("rendered", async () => (await statusOf(id)).status === "in_review", 15_000);
    // As a render that ran out of attempts on a full disk leaves it.
    const v = (await t.store.outputs.get(id))!;
    const at = new Date().toISOString();
    const failed = move({ ...v.value, status: "rendering" }, "failed", at, {
      failure: { reason: "error", message: "ENOSPC: no space left on device", at, attempts: 5 },
    });
    await t.store.outputs.commit({ writes: [t.store.outputs.write(failed, v)] });

    const results = await retryOutputs(
      t.store,
      queues,
      { campaignId: "why-they-left" },
      "staff1",
      "disk freed",
    );
    expect(results).toEqual([
      {
        id,
        ok: true,
        status: "queued",
        was: { reason: "error", message: "ENOSPC: no space left on device" },
      },
    ]);
    const again = await until(
      "rendered again",
      async () => {
        const o = await statusOf(id);
        return o.status === "in_review" ? o : undefined;
      },
      15_000,
    );
    expect(again.failure).toBeUndefined();
    const audit = (await t.store.audit.list({ entity: id })).map((a) => [a.action, a.actor, a.detail ?? ""]);
    expect(audit).toContainEqual([
      "output.retried",
      "staff1",
      "disk freed; had failed: error: ENOSPC: no space left on device",
    ]);
    expect(audit.at(-1)![0]).toBe("output.rendered");

    const refused = await retryOutputs(t.store, queues, { ids: [id, "o-nope"] }, "staff1");
    expect(refused.map((x) => [x.id, x.ok, x.error?.code])).toEqual([
      [id, false, "invalid_state"],
      ["o-nope", false, "not_found"],
    ]);
  });
});
