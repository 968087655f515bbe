import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Output } from "../../src/domain/output.js";
import { createStore } from "../../src/store/store.js";
import { aCampaign, aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { buildApp, type Harness, harness, makeOutput, makeUser } from "./fixtures.js";

let h: Harness;
let app: FastifyInstance;
let base: string;
type U = Awaited<ReturnType<typeof makeUser>>;
let staff: U;
let reviewer: U;
const made: Output[] = [];

/** The list order: oldest queued first, then id. */
const order = (a: Output, b: Output) =>
  a.queuedAt < b.queuedAt ? -1 : a.queuedAt > b.queuedAt ? 1 : a.id < b.id ? -1 : 1;

beforeAll(async () => {
  h = await harness("http-paging");
  app = buildApp(h.deps);
  await app.listen({ port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  staff = await makeUser(h, "staff1", ["staff"]);
  reviewer = await makeUser(h, "rev1", ["reviewer"]);
  // 40 outputs over two campaigns, two locales, two narratives, two formats; several share a
  // queuedAt (queued in one call), so the order falls back to the id.
  for (let i = 0; i < 40; i++) {
    const queuedAt = new Date(Date.UTC(2026, 0, 1, 0, 0, Math.floor(i / 3))).toISOString();
    made.push(
      await makeOutput(h, {
        id: `o-${String((i * 7919) % 1000).padStart(3, "0")}-${i}`,
        campaignId: i % 2 ? "camp-b" : "camp-a",
        locale: i % 3 ? "en" : "ar",
        narrative: i % 4 < 2 ? "brutality" : "corruption",
        format: i % 5 ? "square" : "story",
        queuedAt,
        updatedAt: queuedAt,
      }),
    );
  }
});
afterAll(() => h.close(app));

async function get(path: string, user: U = staff) {
  const res = await fetch(`${base}${path}`, { headers: user.auth });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Every page of a listing, following nextCursor: the ids in the order served, and each page's total. */
async function pageThrough(query: string, limit: number) {
  const ids: string[] = [];
  const totals: number[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 200; pages++) {
    const sep = query ? "&" : "";
    const url = `/api/outputs?${query}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`;
    const { status, body } = await get(url);
    expect(status).toBe(200);
    const items = body.items as Output[];
    expect(items.length).toBeLessThanOrEqual(limit);
    ids.push(...items.map((o) => o.id));
    totals.push(body.total as number);
    cursor = body.nextCursor as string | undefined;
    if (!cursor) return { ids, totals };
  }
  throw new Error("more than 200 pages");
}

describe("GET /api/outputs pages through sorted indexes", () => {
  it("returns every output exactly once, oldest queued first then by id, whatever the page size", async () => {
    const expected = [...made].sort(order).map((o) => o.id);
    const mine = new Set(expected);
    for (const limit of [1, 7, 50]) {
      // Other tests of this file add outputs of their own: look at these 40, and at uniqueness.
      const { ids, totals } = await pageThrough("", limit);
      expect(ids.filter((id) => mine.has(id))).toEqual(expected);
      expect(new Set(ids).size).toBe(ids.length);
      expect(totals[0]).toBe(ids.length);
    }
  });

  it("combines filters: each combination gives exactly the matching outputs, in order, with their total", async () => {
    const combos: [string, (o: Output) => boolean][] = [
      ["campaign=camp-a", (o) => o.campaignId === "camp-a"],
      ["campaign=camp-b&status=in_review", (o) => o.campaignId === "camp-b"],
      [
        "campaign=camp-b&locale=ar&narrative=corruption",
        (o) => o.campaignId === "camp-b" && o.locale === "ar" && o.narrative === "corruption",
      ],
      [
        "campaign=camp-a&status=in_review&locale=en&format=square",
        (o) => o.campaignId === "camp-a" && o.locale === "en" && o.format === "square",
      ],
      [
        "campaign=camp-a&format=story&narrative=brutality",
        (o) => o.campaignId === "camp-a" && o.format === "story" && o.narrative === "brutality",
      ],
      ["campaign=camp-b&status=approved", () => false],
    ];
    for (const [query, match] of combos) {
      const expected = made
        .filter(match)
        .sort(order)
        .map((o) => o.id);
      const { ids, totals } = await pageThrough(query, 3);
      expect(ids, query).toEqual(expected);
      expect(totals[0], query).toBe(expected.length);
    }
  });

  it("moves an output between status indexes when it is approved, and a cursor stays valid across the move", async () => {
    const mine: Output[] = [];
    for (let i = 0; i < 12; i++) {
      const queuedAt = new Date(Date.UTC(2026, 1, 1, 0, 0, Math.floor(i / 2))).toISOString();
      mine.push(
        await makeOutput(h, { id: `move-${i}`, campaignId: "camp-move", queuedAt, updatedAt: queuedAt }),
      );
    }
    const inReview = (await get("/api/outputs?campaign=camp-move&status=in_review&limit=4")).body;
    const first = inReview.items as Output[];
    expect(first.map((o) => o.id)).toEqual(mine.slice(0, 4).map((o) => o.id));
    // A reviewer approves the whole first page, then asks for the next one.
    for (const o of first) {
      const res = await fetch(`${base}/api/outputs/${o.id}/approve`, {
        method: "POST",
        headers: { ...reviewer.auth, "content-type": "application/json" },
        body: "{}",
      });
      expect(res.status).toBe(200);
    }
    const next = (
      await get(`/api/outputs?campaign=camp-move&status=in_review&limit=4&cursor=${inReview.nextCursor}`)
    ).body;
    expect((next.items as Output[]).map((o) => o.id)).toEqual(mine.slice(4, 8).map((o) => o.id));
    expect(next.total).toBe(8);
    const approved = await pageThrough("campaign=camp-move&status=approved", 3);
    expect(approved.ids).toEqual(first.map((o) => o.id));
    expect(approved.totals[0]).toBe(4);
    // Gone from in review everywhere, still listed once among the campaign's outputs.
    const review = await pageThrough("status=in_review&campaign=camp-move", 10);
    expect(review.ids).toEqual(mine.slice(4).map((o) => o.id));
    const everywhere = await pageThrough("status=in_review", 10);
    expect(everywhere.ids.filter((id) => first.some((o) => o.id === id))).toEqual([]);
    expect((await pageThrough("campaign=camp-move", 5)).ids).toEqual(mine.map((o) => o.id));
  });

  it("refuses a cursor it did not give out", async () => {
    const { status, body } = await get("/api/outputs?cursor=bm9wZQ");
    expect(status).toBe(400);
    expect(body.error).toBe("invalid_input");
  });
});

describe("counters and a store from before the sorted indexes", () => {
  it("the coverage panel's approved counts follow decisions", async () => {
    await saveAll(h.store, {
      campaigns: [
        aCampaign({ id: "camp-cov", locales: ["en"], narratives: ["brutality"], formats: ["square"] }),
      ],
      speakers: [aSpeaker("s-cov")],
      quotes: [aQuote("q-cov", "s-cov", { narrative: "brutality", locale: "en" })],
    });
    const o = await makeOutput(h, { campaignId: "camp-cov", locale: "en", narrative: "brutality" });
    const cell = async () =>
      ((await get("/api/campaigns/camp-cov/coverage")).body.cells as { approved: number }[])[0]!.approved;
    expect(await cell()).toBe(0);
    const res = await fetch(`${base}/api/outputs/${o.id}/approve`, {
      method: "POST",
      headers: { ...reviewer.auth, "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(200);
    expect(await cell()).toBe(1);
  });

  it("rebuilds the sorted indexes and counters of outputs stored with set indexes only, once, before the first read", async () => {
    // What an earlier version left: the entity hash and set indexes, no sorted index, no counters.
    const t = h.store.keys;
    const legacy = made.slice(0, 5).map((o, i) => ({ ...o, id: `legacy-${i}`, campaignId: "camp-old" }));
    for (const o of legacy) {
      await h.redis.hset(t.entity("output", o.id), "data", JSON.stringify(o), "rev", 1);
      for (const name of ["all", `campaign:${o.campaignId}`, `status:${o.status}`])
        await h.redis.sadd(name === "all" ? t.all("output") : t.index("output", name), o.id);
    }
    await h.redis.del(t.indexVersion("output"));
    const before = await h.store.outputs.count([]);
    // A process starting on that store (a new store object) reads through rebuilt indexes.
    const fresh = createStore(h.redis, h.prefix);
    const page = await fresh.outputs.page(["campaign:camp-old"], { limit: 10 });
    expect(page.items.map((v) => v.value.id)).toEqual(legacy.map((o) => o.id));
    expect(await fresh.outputs.counts("campaign:camp-old")).toEqual({
      "in_review|brutality|ar|story": 1,
      "in_review|brutality|en|square": 2,
      "in_review|corruption|en|square": 1,
      "in_review|corruption|ar|square": 1,
    });
    expect(await h.redis.exists(t.all("output"), t.index("output", "campaign:camp-old"))).toBe(0);
    // Everything stored before is still listed once; a second rebuild changes nothing.
    expect(await fresh.outputs.count([])).toBe(before + 5);
    await fresh.outputs.rebuildIndexes();
    expect(await fresh.outputs.count([])).toBe(before + 5);
    expect(await fresh.outputs.counts("campaign:camp-old")).toMatchObject({
      "in_review|brutality|en|square": 2,
    });
    expect((await get("/api/outputs?campaign=camp-old&limit=50")).body.total).toBe(5);
  });
});
