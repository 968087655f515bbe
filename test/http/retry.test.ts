import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aCampaign, saveAll } from "../support/builders.js";
import { buildApp, type Harness, harness, makeOutput, makeUser } from "./fixtures.js";

let h: Harness;
let app: FastifyInstance;
let staff: Awaited<ReturnType<typeof makeUser>>;
let reviewer: Awaited<ReturnType<typeof makeUser>>;
const failure = {
  reason: "error" as const,
  message: "ENOSPC: no space left on device",
  at: "2026-11-20T10:00:00.000Z",
  attempts: 5,
};

beforeAll(async () => {
  h = await harness("http-retry");
  app = buildApp(h.deps);
  await app.ready();
  await saveAll(h.store, { campaigns: [aCampaign({ id: "camp-a" })] });
  staff = await makeUser(h, "staff1", ["staff"]);
  reviewer = await makeUser(h, "rev1", ["reviewer"]);
});
afterAll(() => h.close(app));

describe("retrying failed outputs through the API", () => {
  it("POST /api/outputs/:id/retry: staff move a failed output back to queued with a render job; reviewers may not; other states are 409", async () => {
    const o = await makeOutput(h, { status: "failed", failure });
    const forbidden = await app.inject({
      method: "POST",
      url: `/api/outputs/${o.id}/retry`,
      headers: reviewer.auth,
      payload: {},
    });
    expect(forbidden.statusCode).toBe(403);
    const res = await app.inject({
      method: "POST",
      url: `/api/outputs/${o.id}/retry`,
      headers: staff.auth,
      payload: { reason: "disk freed" },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: o.id, status: "queued" });
    expect(res.json().failure).toBeUndefined();
    const jobs = await h.queues.render.getJobs(["waiting", "delayed", "prioritized"]);
    expect(jobs.map((j) => j.data.outputId)).toContain(o.id);
    const audit = await app.inject({ url: `/api/audit?entity=${o.id}`, headers: staff.auth });
    expect(JSON.stringify(audit.json())).toContain("output.retried");
    const again = await app.inject({
      method: "POST",
      url: `/api/outputs/${o.id}/retry`,
      headers: staff.auth,
      payload: {},
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toBe("invalid_state");
  });

  it("POST /api/outputs/bulk-retry: by ids or by campaign, each on its own", async () => {
    const a = await makeOutput(h, { status: "failed", failure });
    const b = await makeOutput(h, {
      status: "failed",
      failure: { ...failure, reason: "cannot_fit", message: "too long" },
    });
    const c = await makeOutput(h, { status: "in_review" });
    const byIds = await app.inject({
      method: "POST",
      url: "/api/outputs/bulk-retry",
      headers: staff.auth,
      payload: { ids: [a.id, c.id] },
    });
    expect(byIds.statusCode).toBe(200);
    expect(byIds.json().results.map((r: { id: string; ok: boolean }) => [r.id, r.ok])).toEqual([
      [a.id, true],
      [c.id, false],
    ]);
    const byCampaign = await app.inject({
      method: "POST",
      url: "/api/outputs/bulk-retry",
      headers: staff.auth,
      payload: { campaign: "camp-a", reason: "layout fixed" },
    });
    expect(byCampaign.statusCode).toBe(200);
    expect(byCampaign.json().results).toContainEqual({
      id: b.id,
      ok: true,
      status: "queued",
      was: { reason: "cannot_fit", message: "too long" },
    });
    const neither = await app.inject({
      method: "POST",
      url: "/api/outputs/bulk-retry",
      headers: staff.auth,
      payload: {},
    });
    expect(neither.statusCode).toBe(400);
  });
});
