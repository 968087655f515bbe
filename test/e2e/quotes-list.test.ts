import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Quote } from "../../src/domain/quote.js";
import { aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { bin, e2eWorld } from "./bin.js";

/** `testimony quotes list` pages through the sorted quote indexes by cursor (the built binary). */
let w: Awaited<ReturnType<typeof e2eWorld>>;
const made: Quote[] = [];

const order = (a: Quote, b: Quote) =>
  a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1;

beforeAll(async () => {
  w = await e2eWorld("quotes-list");
  // 135 quotes over two speakers, two locales, three states; several share a createdAt.
  for (let i = 0; i < 135; i++) {
    const at = new Date(Date.UTC(2026, 0, 1, 0, 0, Math.floor(i / 3))).toISOString();
    made.push(
      aQuote(`q-${String((i * 7919) % 1000).padStart(3, "0")}-${i}`, i % 2 ? "sp-b" : "sp-a", {
        text: `Quote number ${i}.`,
        locale: i % 3 ? "en" : "ar",
        vetting: i % 4 ? { state: "vetted", by: "v", at } : { state: "pending" },
        createdAt: at,
        updatedAt: at,
      }),
    );
  }
  await saveAll(w.store, { speakers: [aSpeaker("sp-a"), aSpeaker("sp-b")], quotes: made });
});
afterAll(() => w.dispose());

type Page = { items: Quote[]; nextCursor?: string; total: number };

describe("testimony quotes list (the built binary)", () => {
  it("prints one page and the next cursor; following the cursors gives each quote once, in order", async () => {
    const want = made.filter((q) => q.locale === "en" && q.vetting.state === "vetted").sort(order);
    const ids: string[] = [];
    let cursor: string | undefined;
    for (let n = 0; n < 20; n++) {
      const args = ["quotes", "list", "--locale", "en", "--state", "vetted", "--limit", "17", "--json"];
      const r = await bin(cursor ? [...args, "--cursor", cursor] : args, { env: w.env });
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      const page = JSON.parse(r.out) as Page;
      expect(page.items.length).toBeLessThanOrEqual(17);
      expect(page.total).toBe(want.length);
      ids.push(...page.items.map((q) => q.id));
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    expect(ids).toEqual(want.map((q) => q.id));

    // The table: one page, then the line that says how to get the next.
    const table = await bin(["quotes", "list", "--limit", "50"], { env: w.env });
    expect(table.code).toBe(0);
    const lines = table.out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+STATE\s+LOCALE\s+NARRATIVE\s+SPEAKER\s+TEXT$/);
    expect(lines.slice(1, -1).map((l) => l.split(/\s+/)[0])).toEqual(
      [...made]
        .sort(order)
        .slice(0, 50)
        .map((q) => q.id),
    );
    const next = /^50 of 135; next page: --cursor (\S+)$/.exec(lines.at(-1)!)?.[1];
    expect(next).toBeDefined();
    const second = await bin(["quotes", "list", "--limit", "50", "--cursor", next!], { env: w.env });
    expect(second.out.split("\n")[1]!.split(/\s+/)[0]).toBe([...made].sort(order)[50]!.id);
  });

  it("--all walks every page: one JSON array, or one table with a single header", async () => {
    const want = made.filter((q) => q.speakerId === "sp-b").sort(order);
    const json = await bin(["quotes", "list", "--speaker", "sp-b", "--all", "--limit", "9", "--json"], {
      env: w.env,
    });
    expect(json.err).toBe("");
    expect(json.code).toBe(0);
    expect((JSON.parse(json.out) as Quote[]).map((q) => q.id)).toEqual(want.map((q) => q.id));

    const text = await bin(["quotes", "list", "--speaker", "sp-b", "--all", "--limit", "9"], { env: w.env });
    expect(text.code).toBe(0);
    const lines = text.out.trimEnd().split("\n");
    expect(lines.filter((l) => l.startsWith("ID ")).length).toBe(1);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(want.map((q) => q.id));

    const none = await bin(["quotes", "list", "--speaker", "nobody", "--all", "--json"], { env: w.env });
    expect(none).toMatchObject({ code: 0, out: "[]\n" });
  });

  it("a cursor it did not give out, or a bad --limit, is a usage error naming the option", async () => {
    const bad = await bin(["quotes", "list", "--cursor", "bm9wZQ"], { env: w.env });
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("cursor");
    expect(bad.out).toBe("");
    for (const limit of ["0", "501", "ten"]) {
      const r = await bin(["quotes", "list", "--limit", limit], { env: w.env });
      expect(r.code, limit).toBe(2);
      expect(r.err, limit).toContain("--limit must be");
    }
  });
});
