import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDeliveryRelay } from "../../src/app/deliver.service.js";
import { addRedaction } from "../../src/app/safety.service.js";
import { addUser } from "../../src/app/users.service.js";
import { newWebhookSecret } from "../../src/app/webhook.js";
import { buildApp } from "../../src/http/app.js";
import { closeQueues, createQueues, type Queues } from "../../src/queues/queues.js";
import { loadTextTemplates } from "../../src/render/text/text.render.js";
import { createDeliveryStore } from "../../src/store/delivery.store.js";
import { connectRedis } from "../../src/store/redis.js";
import { createStore } from "../../src/store/store.js";
import { createDeliverWorker } from "../../src/workers/deliver.worker.js";
import { createRenderWorker } from "../../src/workers/render.worker.js";
import { signIn } from "../http/fixtures.js";
import { aCampaign, aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { cli } from "../support/cli.js";
import { until } from "../support/poll.js";
import { REDIS_URL, testStore } from "../support/redis.js";
import { unzip } from "../support/zip.js";

/** Unique strings planted in every private place; none may appear anywhere a person outside admin can see. */
const MARKERS = [
  "PRIVNAME-zqxkw",
  "PRIVCONTACT-zqxkw",
  "PRIVNOTES-zqxkw",
  "EVIDENCE-zqxkw",
  "OWNTERM-zqxkw",
  "GLOBALTERM-zqxkw",
];
const hasMarker = (s: string) => MARKERS.some((m) => s.toLowerCase().includes(m.toLowerCase()));

const t = testStore("leak");
const logLines: string[] = [];
const log = pino({ level: "trace" }, { write: (s: string) => logLines.push(s) });
const templates = loadTextTemplates();
const workerConn = connectRedis(REDIS_URL, "worker");
const deliverConn = connectRedis(REDIS_URL, "worker");
/** A webhook target's secret: never in a log line, an API answer, the audit or a webhook body. */
const SECRET = newWebhookSecret();
/** What the campaign's webhook receiver was sent: every body and header. */
const hooks: { body: string; headers: string }[] = [];
const receiver = createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  hooks.push({ body: Buffer.concat(chunks).toString("utf8"), headers: JSON.stringify(req.headers) });
  res.writeHead(204).end();
});
let queues: Queues;
let app: FastifyInstance;
let dataDir: string;
let exportDir: string;
const seen: { where: string; body: string }[] = [];

function settle(ids: string[]) {
  return until(
    `${ids.length} renders to settle`,
    async () => {
      const outs = (await t.store.outputs.getMany(ids)).map((v) => v.value);
      return outs.every((o) => o.status !== "queued" && o.status !== "rendering") && outs;
    },
    20_000,
    50,
  );
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "tm-leak-"));
  exportDir = path.join(dataDir, "exports");
  queues = createQueues(t.redis, t.store.keys);
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  const hookUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
  await saveAll(t.store, {
    campaigns: [
      aCampaign({
        formats: ["square", "story"],
        delivery: [
          { type: "folder", id: "folder" },
          {
            type: "webhook",
            id: "partner",
            url: hookUrl,
            events: ["bundle.dropped", "takedowns.pending", "output.failed"],
            linkTtlSeconds: 3600,
          },
        ],
      }),
    ],
    speakers: [
      aSpeaker("marked", {
        pseudonym: "Abu Test",
        attribution: "named",
        publicName: "Test Defector",
        localized: { ar: { publicName: "Test Defector" } },
        consent: {
          state: "granted",
          recordedBy: "staff1",
          recordedAt: "2026-01-01T00:00:00Z",
          scope: { locales: ["en", "ar"], channels: [] },
          evidence: MARKERS[3],
        },
        private: { realName: MARKERS[0], contact: MARKERS[1], notes: MARKERS[2] },
        redactionTerms: [MARKERS[4]!],
      }),
    ],
    quotes: [
      aQuote("clean-en", "marked", { text: "This is not a holy war" }),
      aQuote("clean-ar", "marked", { text: "هذه ليست حربًا مقدسة", locale: "ar" }),
      // Spelt differently from the term (case, an inner zero-width joiner): still caught.
      aQuote("dirty", "marked", { text: `They called him globalterm-\u200Dzqxkw in the camp` }),
    ],
  });
  await addRedaction(t.store, MARKERS[5]!, "staff1");
  const worker = createRenderWorker(
    { store: createStore(workerConn, t.prefix), dataDir, templates, log },
    workerConn,
    t.store.keys,
    { concurrency: 2 },
  );
  await createDeliveryStore(t.store).createSecret("why-they-left", "partner", SECRET);
  const deliverStore = createStore(deliverConn, t.prefix);
  const deliverer = createDeliverWorker(
    { store: deliverStore, exportDir, log, publicUrl: "http://testimony.test", namedSecret: () => undefined },
    deliverConn,
    t.store.keys,
    { backoffMs: 100 },
  );
  const relay = startDeliveryRelay({ store: deliverStore, queue: queues.deliver, log, intervalMs: 100 });
  app = buildApp({ store: t.store, queues, templates, dataDir, exportDir, log });
  await app.ready();
  afterAll(async () => {
    await worker.close();
    await relay.close();
    await deliverer.close();
    receiver.close();
  });
});

afterAll(async () => {
  await app.close();
  await closeQueues(queues);
  await workerConn.quit();
  await deliverConn.quit();
  await t.cleanup();
});

describe("a speaker's identity never leaks", () => {
  it("through templates, cards, manifests, the review page, the API, the audit trail or the logs", async () => {
    const staff = await addUser(t.store, "staff1", ["staff"], "test");
    const reviewer = await addUser(t.store, "rev1", ["reviewer"], "test");
    const asStaff = { authorization: `Bearer ${staff.token}` };
    const asReviewer = { authorization: `Bearer ${reviewer.token}` };
    const call = async (
      method: "GET" | "POST",
      url: string,
      headers: Record<string, string>,
      payload?: unknown,
    ) => {
      const res = await app.inject({ method, url, headers, payload: payload as never });
      seen.push({ where: `${method} ${url}`, body: res.body });
      return res;
    };

    const queued = await call("POST", "/api/campaigns/why-they-left/queue", asStaff, {});
    expect(queued.statusCode).toBe(202);
    const outs = await settle(queued.json().outputIds);
    const dirty = outs.filter((o) => o.quoteId === "dirty");
    expect(dirty.map((o) => [o.status, o.failure?.reason])).toEqual([
      ["failed", "redaction"],
      ["failed", "redaction"],
    ]);
    expect(dirty[0]!.failure!.message).toMatch(/^matches redaction term r-[0-9a-f]{16}$/);
    const clean = outs.filter((o) => o.quoteId !== "dirty");
    expect(clean.every((o) => o.status === "in_review")).toBe(true);
    expect(clean.every((o) => o.published?.attribution === "Test Defector")).toBe(true);

    // The review page shows what waits for review (in_review only; it filters by campaign, locale and
    // narrative): read it now, before the approval empties it, unfiltered and with each filter.
    const session = await signIn(app, reviewer.token);
    const cardsShown: Record<string, number> = {};
    for (const query of [
      "",
      "?campaign=why-they-left",
      "?locale=en",
      "?locale=ar",
      "?narrative=corruption",
    ]) {
      const page = await app.inject({
        method: "GET",
        url: `/review${query}`,
        cookies: { tm_session: session.cookie },
      });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain("Test Defector");
      cardsShown[query] = page.body.match(/<article class="card"/g)?.length ?? 0;
      seen.push({ where: `review page /review${query}`, body: page.body });
    }
    // 2 clean quotes (en, ar) × 2 formats, all narrative "corruption"; the redacted ones failed.
    expect(cardsShown).toEqual({
      "": 4,
      "?campaign=why-they-left": 4,
      "?locale=en": 2,
      "?locale=ar": 2,
      "?narrative=corruption": 4,
    });

    const approved = await call("POST", "/api/outputs/bulk-approve", asReviewer, {
      ids: clean.map((o) => o.id),
    });
    expect(approved.statusCode).toBe(200);
    const exported = await call("POST", "/api/campaigns/why-they-left/export", asStaff);
    expect(exported.json().status).toBe("written");
    // The webhook target got the drop and the two failed outputs, each logged and recorded on the way.
    await until(
      "bundle.dropped and two output.failed webhooks",
      () =>
        hooks.filter((h) => h.body.includes('"bundle.dropped"')).length === 1 &&
        hooks.filter((h) => h.body.includes('"output.failed"')).length === 2,
      20_000,
    );

    for (const url of [
      "/api/outputs",
      "/api/quotes",
      "/api/speakers",
      "/api/campaigns",
      "/api/audit",
      "/api/bundles",
      "/metrics",
      "/openapi.json",
    ]) {
      expect((await call("GET", url, asStaff)).statusCode).toBe(200);
    }
    for (const o of outs) {
      await call("GET", `/api/outputs/${o.id}`, asReviewer);
      for (const v of ["post", "caption", "alt_text"])
        await call("GET", `/api/outputs/${o.id}/text/${v}`, asReviewer);
    }
    // The admin API is the one place private fields may be read.
    const admin = await addUser(t.store, "admin1", ["admin"], "test");
    const priv = await app.inject({
      method: "GET",
      url: "/api/speakers/marked/private",
      headers: { authorization: `Bearer ${admin.token}` },
    });
    expect(priv.statusCode).toBe(200);
    expect(priv.body).toContain(MARKERS[0]);
    expect(
      (await app.inject({ method: "GET", url: "/api/speakers/marked/private", headers: asStaff })).statusCode,
    ).toBe(403);

    // Every byte of every exported file, zipped and unzipped, and every rendered text file.
    const bundleDir = path.join(exportDir, "why-they-left");
    for (const slot of await readdir(bundleDir)) {
      for (const f of await readdir(path.join(bundleDir, slot))) {
        seen.push({
          where: `export ${slot}/${f}`,
          body: (await readFile(path.join(bundleDir, slot, f))).toString("latin1"),
        });
      }
    }
    const [slot] = await readdir(bundleDir);
    const entries = await unzip(path.join(bundleDir, slot!, "bundle.zip"));
    for (const [name, bytes] of entries)
      seen.push({ where: `unzipped ${name}`, body: bytes.toString("utf8") });
    expect(entries.get("manifest.json")!.toString()).toContain("Test Defector");
    for (const dir of await readdir(path.join(dataDir, "outputs", "why-they-left"))) {
      seen.push({
        where: `rendered ${dir}`,
        body: (await readFile(path.join(dataDir, "outputs", "why-they-left", dir))).toString("latin1"),
      });
    }
    const audit = await cli(t.prefix, ["audit", "--json", "--limit", "10000"]);
    seen.push({ where: "testimony audit", body: audit.out });
    seen.push({ where: "log lines", body: logLines.join("") });
    expect(logLines.length).toBeGreaterThan(20);

    for (const [i, h] of hooks.entries())
      seen.push({ where: `webhook ${i}`, body: `${h.headers}\n${h.body}` });
    expect(hooks.length).toBe(3);

    const leaks = seen.filter((s) => hasMarker(s.body)).map((s) => s.where);
    expect(leaks).toEqual([]);
    // Nor the webhook's signing secret (whole, or its key bytes) anywhere.
    const secretLeaks = seen
      .filter((s) => s.body.includes(SECRET) || s.body.includes(SECRET.slice("whsec_".length)))
      .map((s) => s.where);
    expect(secretLeaks).toEqual([]);
  }, 60_000);
});
