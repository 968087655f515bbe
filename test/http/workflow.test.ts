import { readFile } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { loadConfig } from "../../src/config.js";
import { serveRuntime } from "../../src/http/server.js";
import type { Runtime } from "../../src/runtime.js";
import { connectRedis } from "../../src/store/redis.js";
import { createStore } from "../../src/store/store.js";
import { buildApp, type Harness, harness, makeOutput, makeUser, signIn } from "./fixtures.js";

// Fresh fixtures per test (a key prefix, queues, data dir, app and users of its own), so each test
// runs alone and in any order; what a test needs from the workflow it builds with the steps below.
let h: Harness;
let app: FastifyInstance;
let staff: Awaited<ReturnType<typeof makeUser>>;
let admin: Awaited<ReturnType<typeof makeUser>>;
let reviewer: Awaited<ReturnType<typeof makeUser>>;

beforeEach(async () => {
  h = await harness("http-flow");
  app = buildApp(h.deps);
  await app.ready();
  staff = await makeUser(h, "staff1", ["staff"]);
  admin = await makeUser(h, "admin1", ["admin"]);
  reviewer = await makeUser(h, "rev1", ["reviewer"]);
});
afterEach(() => h.close(app));

const SECRET_SPEAKER = JSON.stringify([
  {
    id: "secret-speaker",
    pseudonym: "Abu Example",
    attribution: "pseudonym",
    consent: {
      state: "granted",
      recordedBy: "staff1",
      recordedAt: "2026-01-01T00:00:00Z",
      evidence: "form-4711",
    },
    private: { realName: "Real Name Never Shown", contact: "+44 0000" },
    redactionTerms: ["Raqqa unit 9"],
  },
]);

/** Workflow steps through the API, as staff; a step that does not succeed stops the test. */
async function call(method: "GET" | "POST" | "PUT", url: string, payload?: object, expected = 200) {
  const res = await app.inject({ method, url, headers: staff.auth, payload });
  if (res.statusCode !== expected)
    throw new Error(`${method} ${url}: ${res.statusCode} (expected ${expected}) ${res.body}`);
  return res;
}
const importFile = (file: string, content: string, kind?: "speakers") =>
  call("POST", "/api/quotes/import", { file, content, ...(kind ? { kind } : {}) });
async function importSamples() {
  await importFile("speakers.csv", await readFile("assets/sample/speakers.csv", "utf8"), "speakers");
  await importFile("quotes.csv", await readFile("assets/sample/quotes.csv", "utf8"));
}
/** The sample campaign with its logo uploaded (a data URI), one quote vetted and queued: 4 render jobs. */
async function queuedSampleCampaign() {
  await importSamples();
  await call("POST", "/api/quotes/not-protecting-en/vet");
  const campaign = JSON.parse(await readFile("assets/sample/campaign.json", "utf8"));
  const svg = await readFile("assets/sample/logo.svg");
  campaign.brand.logo = `data:image/svg+xml;base64,${svg.toString("base64")}`;
  await call("POST", "/api/campaigns", campaign, 201);
  await call("POST", "/api/campaigns/why-they-left/queue", undefined, 202);
}

describe("staff workflow: import, vet, campaign, queue", () => {
  it("imports speakers and quotes, with FILE:LINE details when a file is wrong", async () => {
    const post = (payload: object) =>
      app.inject({ method: "POST", url: "/api/quotes/import", headers: staff.auth, payload });
    const speakers = await post({
      file: "speakers.csv",
      kind: "speakers",
      content: await readFile("assets/sample/speakers.csv", "utf8"),
    });
    expect(speakers.statusCode).toBe(200);
    expect(
      (await post({ file: "secret.json", kind: "speakers", content: SECRET_SPEAKER })).json(),
    ).toMatchObject({ created: 1 });
    const quotes = await post({
      file: "quotes.csv",
      content: await readFile("assets/sample/quotes.csv", "utf8"),
    });
    expect(quotes.json()).toEqual({ file: "quotes.csv", created: 10, updated: 0, unchanged: 0 });
    const bad = await post({
      file: "bad.csv",
      content:
        "id,speaker_id,text,locale,narrative,source_title,source_publisher,source_published_at\nx1,nobody,Hi,en,nope,T,P,2015-01-01\n",
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().details).toContainEqual(
      expect.objectContaining({ where: "bad.csv:2", field: "narrative" }),
    );
    const noFile = await post({ content: "x" });
    expect(noFile.json().details).toContainEqual(expect.objectContaining({ where: "body", field: "file" }));
  });

  it("vets quotes; refuses a rejection without a note; lists by state", async () => {
    await importSamples();
    const vet = (id: string, action: string, payload?: object) =>
      app.inject({ method: "POST", url: `/api/quotes/${id}/${action}`, headers: staff.auth, payload });
    expect((await vet("not-protecting-en", "vet")).json().vetting).toMatchObject({
      state: "vetted",
      by: "staff1",
    });
    expect((await vet("not-holy-war-en", "reject")).statusCode).toBe(400);
    expect((await vet("not-protecting-en", "vet")).statusCode).toBe(409);
    const vetted = (await app.inject({ url: "/api/quotes?state=vetted", headers: reviewer.auth })).json();
    expect(vetted.items.map((q: { id: string }) => q.id)).toEqual(["not-protecting-en"]);
  });

  it("creates a campaign with an uploaded logo, refuses a server path, and queues as the caller", async () => {
    await importSamples();
    await call("POST", "/api/quotes/not-protecting-en/vet");
    const campaign = JSON.parse(await readFile("assets/sample/campaign.json", "utf8"));
    const pathLogo = await app.inject({
      method: "POST",
      url: "/api/campaigns",
      headers: staff.auth,
      payload: campaign,
    });
    expect(pathLogo.statusCode).toBe(400);
    expect(pathLogo.json().details).toContainEqual(expect.objectContaining({ field: "brand.logo" }));
    const svg = await readFile("assets/sample/logo.svg");
    campaign.brand.logo = `data:image/svg+xml;base64,${svg.toString("base64")}`;
    const created = await app.inject({
      method: "POST",
      url: "/api/campaigns",
      headers: staff.auth,
      payload: campaign,
    });
    expect(created.statusCode).toBe(201);
    expect(created.json().brand.logo).toMatch(/^blob:[0-9a-f]{64}$/);
    const badCron = await app.inject({
      method: "PUT",
      url: "/api/campaigns/why-they-left",
      headers: staff.auth,
      payload: { ...(created.json() as object), schedule: { cron: "nope", timeZone: "Mars/Base" } },
    });
    expect(badCron.statusCode).toBe(400);
    expect(
      badCron
        .json()
        .details.map((d: { field: string }) => d.field)
        .sort(),
    ).toEqual(["schedule.cron", "schedule.timeZone"]);

    const queued = await app.inject({
      method: "POST",
      url: "/api/campaigns/why-they-left/queue",
      headers: staff.auth,
    });
    expect(queued.statusCode).toBe(202);
    expect(queued.json()).toMatchObject({ created: 4, jobsAdded: 4 });
    const out = (
      await app.inject({ url: `/api/outputs/${queued.json().outputIds[0]}`, headers: reviewer.auth })
    ).json();
    expect(out).toMatchObject({ status: "queued", queuedBy: "staff1", campaignId: "why-they-left" });
    expect((await app.inject({ url: "/api/campaigns", headers: reviewer.auth })).json().items).toHaveLength(
      1,
    );
  });
});

describe("private speaker fields", () => {
  it("never leave through the read routes; the admin route has them and leaves an audit entry", async () => {
    await importFile("secret.json", SECRET_SPEAKER, "speakers");
    const list = await app.inject({ url: "/api/speakers", headers: staff.auth });
    expect(list.body).not.toContain("Real Name Never Shown");
    expect(list.body).not.toContain("form-4711");
    expect(list.body).not.toContain("Raqqa unit 9");
    expect(list.json().items.find((s: { id: string }) => s.id === "secret-speaker")).toMatchObject({
      pseudonym: "Abu Example",
      consent: { state: "granted" },
    });
    expect(
      (await app.inject({ url: "/api/speakers/secret-speaker/private", headers: staff.auth })).statusCode,
    ).toBe(403);
    const full = await app.inject({ url: "/api/speakers/secret-speaker/private", headers: admin.auth });
    expect(full.json()).toMatchObject({
      private: { realName: "Real Name Never Shown" },
      consent: { evidence: "form-4711" },
    });
    const audit = (await app.inject({ url: "/api/audit?entity=secret-speaker", headers: admin.auth })).json()
      .items;
    expect(audit.at(-1)).toMatchObject({ actor: "admin1", action: "speaker.private_read" });
  });
});

describe("operations", () => {
  it("/openapi.json lists every API route", async () => {
    const doc = (await app.inject({ url: "/openapi.json" })).json();
    expect(doc.openapi).toMatch(/^3\./);
    const listed = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    for (const url of [
      "/api/outputs/{id}/approve",
      "/api/outputs/{id}/reject",
      "/api/outputs/bulk-approve",
      "/api/campaigns/{id}/queue",
      "/api/quotes/import",
      "/api/audit",
    ]) {
      expect(Object.keys(doc.paths)).toContain(url);
    }
    expect(listed).toContain("POST /api/outputs/{id}/reject");
    expect(listed.length).toBeGreaterThanOrEqual(25);
    const reject = doc.paths["/api/outputs/{id}/reject"].post;
    expect(reject.requestBody.content["application/json"].schema.required).toContain("comment");
    expect(reject.responses["403"]).toBeDefined();
  });

  it("/health answers 503 when Redis does not", async () => {
    const dead = connectRedis("redis://127.0.0.1:1", "command");
    dead.on("error", () => {});
    const down = buildApp({ ...h.deps, store: createStore(dead, "nowhere") });
    try {
      const res = await down.inject({ url: "/health" });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ status: "unavailable", redis: { ok: false } });
    } finally {
      await down.close();
      dead.disconnect();
    }
  });

  it("/health pings Redis and /metrics counts queues and outputs", async () => {
    await queuedSampleCampaign();
    const health = await app.inject({ url: "/health" });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({ status: "ok" });
    await makeOutput(h);
    const metrics = await app.inject({ url: "/metrics" });
    expect(metrics.headers["content-type"]).toContain("text/plain");
    expect(metrics.body).toMatch(/^testimony_queue_jobs\{queue="render",state="waiting"\} 4$/m);
    expect(metrics.body).toMatch(/^testimony_outputs\{state="in_review"\} 1$/m);
    expect(metrics.body).toMatch(/^testimony_outputs\{state="queued"\} 4$/m);
  });

  it("logs each request with its id, and the entity id on lines about an entity", async () => {
    const o = await makeOutput(h);
    const res = await app.inject({
      url: `/api/outputs/${o.id}`,
      headers: { ...reviewer.auth, "x-request-id": "req-abc-123" },
    });
    expect(res.headers["x-request-id"]).toBe("req-abc-123");
    const lines = h.logLines.filter((l) => l.reqId === "req-abc-123");
    expect(lines.some((l) => l.msg === "request completed" && l.outputId === o.id && l.user === "rev1")).toBe(
      true,
    );
  });

  it("the queue dashboard is for admins only: token or session", async () => {
    expect((await app.inject({ url: "/admin/queues" })).statusCode).toBe(401);
    expect((await app.inject({ url: "/admin/queues", headers: staff.auth })).statusCode).toBe(403);
    const page = await app.inject({ url: "/admin/queues", headers: admin.auth });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toContain("text/html");
    const session = await signIn(app, admin.token);
    const viaCookie = await app.inject({ url: "/admin/queues", cookies: { tm_session: session.cookie } });
    expect(viaCookie.statusCode).toBe(200);
    const foreign = await app.inject({
      method: "PUT",
      url: "/admin/queues/api/queues/render/pause",
      cookies: { tm_session: session.cookie },
      headers: { origin: "https://evil.example" },
    });
    expect(foreign.statusCode).toBe(403);
    const api = await app.inject({ url: "/admin/queues/api/queues", headers: admin.auth });
    expect(
      api
        .json()
        .queues.map((q: { name: string }) => q.name)
        .sort(),
    ).toEqual(["deliver", "export", "render"]);
  });
});

describe("serveRuntime", () => {
  it("listens for the serve and start commands and closes again", async () => {
    // The configuration a `serve` would load (storage, public URL, ...), on this test's prefix and dirs.
    const config = loadConfig({ KEY_PREFIX: h.prefix, DATA_DIR: h.dataDir, EXPORT_DIR: h.dataDir });
    const rt = { ...h.deps, config } as unknown as Runtime;
    const server = await serveRuntime(rt, { host: "127.0.0.1", port: 0 });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${server.url}/health`);
      expect(res.status).toBe(200);
      expect(res.headers.get("x-request-id")).toBeTruthy();
    } finally {
      await server.close();
    }
  });
});
