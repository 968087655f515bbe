import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Quote } from "../../src/domain/quote.js";
import type { RunningServer } from "../../src/http/server.js";
import { aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { startSite } from "../support/site.js";
import { type Harness, makeUser } from "./fixtures.js";

/** GET /api/quotes reads one page through the sorted quote indexes, by cursor, over a real socket. */
let h: Harness;
let server: RunningServer;
let staff: Awaited<ReturnType<typeof makeUser>>;
const made: Quote[] = [];

const order = (a: Quote, b: Quote) =>
  a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1;

beforeAll(async () => {
  ({ h, server } = await startSite("http-quotes-api-paging"));
  staff = await makeUser(h, "staff1", ["staff"]);
  // 140 quotes over two speakers, two locales, three states; several share a createdAt, so the
  // order falls back to the id.
  for (let i = 0; i < 140; i++) {
    const at = new Date(Date.UTC(2026, 0, 1, 0, 0, Math.floor(i / 3))).toISOString();
    made.push(
      aQuote(`q-${String((i * 7919) % 1000).padStart(3, "0")}-${i}`, i % 2 ? "sp-b" : "sp-a", {
        text: `Quote number ${i}.`,
        narrative: i % 7 < 4 ? "brutality" : "corruption",
        locale: i % 3 ? "en" : "ar",
        vetting: i % 4 ? { state: "vetted", by: "v", at } : { state: "pending" },
        createdAt: at,
        updatedAt: at,
      }),
    );
  }
  await saveAll(h.store, { speakers: [aSpeaker("sp-a"), aSpeaker("sp-b")], quotes: made });
});
afterAll(() => h.close(server));

async function get(path: string) {
  const res = await fetch(`${server.url}${path}`, { headers: staff.auth });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Every page, following nextCursor: ids in the order served, page sizes and totals. */
async function pageThrough(query: string, limit: number) {
  const ids: string[] = [];
  const totals: number[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 300; pages++) {
    const url = `/api/quotes?${query}${query ? "&" : ""}limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`;
    const { status, body } = await get(url);
    expect(status, url).toBe(200);
    const items = body.items as Quote[];
    expect(items.length).toBeLessThanOrEqual(limit);
    ids.push(...items.map((q) => q.id));
    totals.push(body.total as number);
    cursor = body.nextCursor as string | undefined;
    if (!cursor) return { ids, totals };
  }
  throw new Error("more than 300 pages");
}

describe("GET /api/quotes pages by cursor", () => {
  it("returns every quote exactly once, oldest first then by id, whatever the page size", async () => {
    const expected = [...made].sort(order).map((q) => q.id);
    for (const limit of [1, 13, 50, 500]) {
      const { ids, totals } = await pageThrough("", limit);
      expect(ids).toEqual(expected);
      expect(new Set(totals)).toEqual(new Set([140]));
    }
    // Without a limit: the first 50, and a cursor to the rest.
    const first = await get("/api/quotes");
    expect((first.body.items as Quote[]).map((q) => q.id)).toEqual(expected.slice(0, 50));
    expect(first.body.nextCursor).toEqual(expect.any(String));
  });

  it("keeps the filters, alone and combined, each match once", async () => {
    const cases: [string, (q: Quote) => boolean][] = [
      ["state=pending", (q) => q.vetting.state === "pending"],
      ["locale=ar&state=vetted", (q) => q.locale === "ar" && q.vetting.state === "vetted"],
      [
        "speaker=sp-b&locale=en&state=vetted&narrative=brutality",
        (q) =>
          q.speakerId === "sp-b" &&
          q.locale === "en" &&
          q.vetting.state === "vetted" &&
          q.narrative === "brutality",
      ],
    ];
    for (const [query, keep] of cases) {
      const want = made.filter(keep).sort(order);
      expect(want.length, query).toBeGreaterThan(10);
      const { ids, totals } = await pageThrough(query, 7);
      expect(ids, query).toEqual(want.map((q) => q.id));
      expect(totals[0], query).toBe(want.length);
    }
  });

  it("refuses a cursor it did not give out, and a bad limit, naming the field", async () => {
    const forged = Buffer.from("not a date\nq-1").toString("base64url");
    for (const cursor of ["bm9wZQ", forged, "%3Cscript%3E"]) {
      const { status, body } = await get(`/api/quotes?cursor=${cursor}`);
      expect(status, cursor).toBe(400);
      expect(body.error).toBe("invalid_input");
      expect(body.details).toEqual([expect.objectContaining({ field: "cursor" })]);
    }
    for (const limit of ["0", "501", "ten", "2.5"]) {
      const { status, body } = await get(`/api/quotes?limit=${limit}`);
      expect(status, limit).toBe(400);
      expect(body.details).toEqual([expect.objectContaining({ field: "limit" })]);
    }
  });

  it("documents limit, cursor and the page's shape in the OpenAPI file", async () => {
    const res = await fetch(`${server.url}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    const op = doc.paths["/api/quotes"]!.get! as {
      parameters: { name: string }[];
      responses: Record<string, { content: Record<string, { schema: { properties: object } }> }>;
    };
    expect(op.parameters.map((p) => p.name)).toEqual(expect.arrayContaining(["limit", "cursor"]));
    const schema = op.responses["200"]!.content["application/json"]!.schema;
    expect(Object.keys(schema.properties)).toEqual(["items", "nextCursor", "total"]);
  });
});
