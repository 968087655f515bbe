import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createCampaign } from "../../src/app/campaigns.service.js";
import { importQuotes, importSpeakers } from "../../src/app/import.service.js";
import { changeVetting } from "../../src/app/quotes.service.js";
import { buildApp, type Harness, harness, makeOutput, makeUser } from "./fixtures.js";

/** Success paths of the routes no other test walks, over a real listening socket. */
const SAMPLE = path.resolve("assets/sample");
let h: Harness | undefined;
let close: (() => Promise<unknown>) | undefined;
afterEach(async () => {
  await h?.close({ close: async () => close?.() });
  h = undefined;
  close = undefined;
});

async function served(name: string) {
  h = await harness(name);
  const app = buildApp(h.deps);
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  close = () => app.close();
  const staff = await makeUser(h, "staff1", ["staff"]);
  const admin = await makeUser(h, "admin1", ["admin"]);
  const call = async (method: string, route: string, token: string, body?: unknown) => {
    const res = await fetch(`${url}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  };
  return { h, url, staff, admin, call };
}

async function sample(h: Harness) {
  await importSpeakers(h.store, await readFile(path.join(SAMPLE, "speakers.csv")), "speakers.csv", "staff1");
  await importQuotes(h.store, await readFile(path.join(SAMPLE, "quotes.csv")), "quotes.csv", "staff1");
  const raw = JSON.parse(await readFile(path.join(SAMPLE, "campaign.json"), "utf8"));
  raw.brand.logo = path.join(SAMPLE, raw.brand.logo);
  await createCampaign(h.store, raw, "staff1");
}

describe("route success paths over a real socket", () => {
  it("POST /api/quotes/:id/reject and /retire move vetting on", async () => {
    const s = await served("routes-quotes");
    await sample(s.h);
    const rejected = await s.call("POST", "/api/quotes/not-holy-war-en/reject", s.staff.token, {
      note: "wrong speaker",
    });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ id: "not-holy-war-en", vetting: { state: "rejected" } });
    await changeVetting(s.h.store, "not-protecting-en", "vet", "staff1");
    const retired = await s.call("POST", "/api/quotes/not-protecting-en/retire", s.staff.token, {});
    expect(retired.status).toBe(200);
    expect(retired.body).toMatchObject({ vetting: { state: "retired" } });
  });

  it("POST /api/campaigns/:id/resume and /api/users/:id/revoke", async () => {
    const s = await served("routes-campaign-users");
    await sample(s.h);
    expect(
      (await s.call("POST", "/api/campaigns/why-they-left/pause", s.staff.token, {})).body,
    ).toMatchObject({
      paused: true,
    });
    const resumed = await s.call("POST", "/api/campaigns/why-they-left/resume", s.staff.token, {});
    expect(resumed).toMatchObject({ status: 200, body: { id: "why-they-left", paused: false } });
    const revoked = await s.call("POST", "/api/users/staff1/revoke", s.admin.token, {});
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).toEqual(expect.any(String));
    expect((await s.call("GET", "/api/me", s.staff.token)).status).toBe(401);
  });

  it("withdraw → takedowns → a takedown-only drop → GET /api/bundles/:id → ack", async () => {
    const s = await served("routes-takedowns");
    await sample(s.h);
    const out = await makeOutput(s.h, {
      campaignId: "why-they-left",
      speakerId: "india-defector",
      status: "exported",
      exportedAt: new Date().toISOString(),
    });
    const withdrawn = await s.call("POST", "/api/speakers/india-defector/withdraw", s.staff.token, {
      reason: "asked us",
    });
    expect(withdrawn).toMatchObject({ status: 200, body: { withdrawn: 0, takedowns: 1 } });
    const pending = await s.call("GET", "/api/campaigns/why-they-left/takedowns", s.staff.token);
    expect(pending).toMatchObject({ status: 200, body: { ids: [out.id] } });

    const dropped = await s.call("POST", "/api/campaigns/why-they-left/export", s.staff.token, {});
    expect(dropped.status).toBe(200);
    const bundleId = dropped.body.bundle.id as string;
    const bundle = await s.call("GET", `/api/bundles/${bundleId}`, s.staff.token);
    expect(bundle).toMatchObject({ status: 200, body: { id: bundleId, takedowns: [out.id], outputIds: [] } });
    expect((await s.call("GET", "/api/bundles/nope", s.staff.token)).status).toBe(404);

    const acked = await s.call("POST", "/api/campaigns/why-they-left/takedowns/ack", s.staff.token, {
      ids: [out.id],
    });
    expect(acked.status).toBe(200);
    expect((await s.call("GET", "/api/campaigns/why-they-left/takedowns", s.staff.token)).body).toEqual({
      ids: [],
    });
  });

  it("GET /review/assets/:file serves the page's stylesheet", async () => {
    const s = await served("routes-assets");
    const res = await fetch(`${s.url}/review/assets/review.css`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/css");
    expect(await res.text()).toContain("{");
  });
});
