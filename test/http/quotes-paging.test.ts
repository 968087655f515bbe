import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pageQuotes } from "../../src/app/quotes.service.js";
import type { Quote } from "../../src/domain/quote.js";
import { createStore, quoteCountField } from "../../src/store/store.js";
import { aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { buildApp, type Harness, harness, makeUser, signIn } from "./fixtures.js";

/** The workspace quote list reads a page at a time from the sorted quote indexes, by cursor. */
let h: Harness;
let app: FastifyInstance;
let session: { cookie: string };
const made: Quote[] = [];

const order = (a: Quote, b: Quote) =>
  a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1;

beforeAll(async () => {
  h = await harness("http-quotes-paging");
  app = buildApp(h.deps);
  await app.ready();
  session = await signIn(app, (await makeUser(h, "staff1", ["staff"])).token);
  // 130 quotes over two speakers, two locales, three states; several share a createdAt, so the
  // order falls back to the id; every seventh mentions "needle".
  for (let i = 0; i < 130; i++) {
    const at = new Date(Date.UTC(2026, 0, 1, 0, 0, Math.floor(i / 3))).toISOString();
    made.push(
      aQuote(`q-${String((i * 7919) % 1000).padStart(3, "0")}-${i}`, i % 2 ? "sp-b" : "sp-a", {
        text: i % 7 ? `Quote number ${i}.` : `Quote ${i} with a Needle in it.`,
        locale: i % 3 ? "en" : "ar",
        vetting: i % 4 ? { state: "vetted", by: "v", at } : { state: "pending" },
        createdAt: at,
        updatedAt: at,
      }),
    );
  }
  await saveAll(h.store, { speakers: [aSpeaker("sp-a"), aSpeaker("sp-b")], quotes: made });
});
afterAll(() => h.close(app));

/** Every page of the workspace list, following its Next link: ids in order, and each summary. */
async function pageThrough(query: string) {
  const ids: string[] = [];
  const summaries: string[] = [];
  let url: string | undefined = `/workspace/quotes?${query}`;
  for (let n = 0; url && n < 50; n++) {
    const res: { statusCode: number; body: string } = await app.inject({
      method: "GET",
      url,
      cookies: { tm_session: session.cookie },
    });
    expect(res.statusCode, url).toBe(200);
    ids.push(
      ...[...res.body.matchAll(/<li class="quote [^"]*" id="quote-[^"]+" data-id="([^"]+)"/g)].map(
        (m) => m[1]!,
      ),
    );
    summaries.push(/<p class="summary"[^>]*>([^<]*)/.exec(res.body)![1]!.replace(/\s+/g, " ").trim());
    const next: string | undefined = /<a href="([^"]+)" rel="next">/.exec(res.body)?.[1];
    url = next?.replaceAll("&amp;", "&").replaceAll("&#x3D;", "=");
  }
  return { ids, summaries };
}

describe("quote list paging by cursor", () => {
  it("pages through all quotes and through combined filters in list order, each once, with totals", async () => {
    const all = await pageThrough("");
    expect(all.ids).toEqual([...made].sort(order).map((q) => q.id));
    expect(all.summaries).toEqual(["Quotes 1–50 of 130", "Quotes 51–100 of 130", "Quotes 101–130 of 130"]);

    const want = made.filter(
      (q) => q.speakerId === "sp-a" && q.locale === "en" && q.vetting.state === "vetted",
    );
    const some = await pageThrough("speaker=sp-a&locale=en&state=vetted");
    expect(some.ids).toEqual(want.sort(order).map((q) => q.id));
    expect(some.summaries[0]).toBe(`Quotes 1–${want.length} of ${want.length}`);
  });

  it("text search reads a bounded window and offers to search further from where it stopped", async () => {
    const needles = made.filter((q) => q.text.includes("Needle")).sort(order);
    const r = await pageQuotes(h.store, { text: "needle" }, { limit: 50, window: 40 });
    expect(r.scanned).toBe(40);
    expect(r.windowFull).toBe(true);
    const first40 = [...made].sort(order).slice(0, 40);
    expect(r.items.map((q) => q.id)).toEqual(
      first40.filter((q) => q.text.includes("Needle")).map((q) => q.id),
    );
    // Going on from the cursor finds the rest, each once.
    const seen = [...r.items];
    let next = r.next;
    while (next) {
      const more = await pageQuotes(h.store, { text: "needle" }, { after: next, limit: 50, window: 40 });
      seen.push(...more.items);
      next = more.next;
    }
    expect(seen.map((q) => q.id)).toEqual(needles.map((q) => q.id));

    const page = await pageThrough("q=needle");
    expect(page.ids).toEqual(needles.map((q) => q.id));
    expect(page.summaries[0]).toMatch(/^Found 19 among the 130 quotes searched from the start of the list\./);
    // A full page of matches stops early with a cursor to more matches.
    const three = await pageQuotes(h.store, { text: "needle" }, { limit: 3 });
    expect(three.items.map((q) => q.id)).toEqual(needles.slice(0, 3).map((q) => q.id));
    expect(three.next).toEqual({ sortKey: needles[2]!.createdAt, id: needles[2]!.id });
  });

  it("text search with filters finds each match once, and follows a quote's edits", async () => {
    const want = made
      .filter((q) => q.text.includes("Needle") && q.locale === "ar" && q.speakerId === "sp-a")
      .sort(order);
    expect(want.length).toBeGreaterThan(1);
    const seen: Quote[] = [];
    let next: Awaited<ReturnType<typeof pageQuotes>>["next"];
    do {
      const r = await pageQuotes(
        h.store,
        { text: "NEEDLE", locale: "ar", speakerId: "sp-a" },
        { after: next, limit: 1, window: 25 },
      );
      seen.push(...r.items);
      next = r.next;
    } while (next);
    expect(seen.map((q) => q.id)).toEqual(want.map((q) => q.id));
    // The text index moves with the quote in the same commit: the old words are gone, the new found.
    const q = made.find((x) => !x.text.includes("Needle"))!;
    const current = (await h.store.quotes.get(q.id))!;
    const edited = { ...current.value, text: "Now a Haystack line: ÉCOLE, قال." };
    await h.store.quotes.commit({ writes: [h.store.quotes.write(edited, current)] });
    try {
      const found = await pageQuotes(h.store, { text: "haystack" }, { limit: 50 });
      expect(found.items.map((x) => x.id)).toEqual([q.id]);
      // Folded the same on both sides, and matched as UTF-8 in Redis: accents and Arabic too.
      for (const text of ["école", "Line: É", "قال"])
        expect(
          (await pageQuotes(h.store, { text }, { limit: 50 })).items.map((x) => x.id),
          text,
        ).toEqual([q.id]);
      expect((await pageQuotes(h.store, { text: q.text }, { limit: 50 })).items).toEqual([]);
    } finally {
      const again = (await h.store.quotes.get(q.id))!;
      await h.store.quotes.commit({ writes: [h.store.quotes.write(q, again)] });
    }
  });

  it("refuses a malformed cursor with 400", async () => {
    const res = await app.inject({
      method: "GET",
      url: "/workspace/quotes?after=%3Cscript%3E",
      cookies: { tm_session: session.cookie },
    });
    expect(res.statusCode).toBe(400);
  });

  it("re-indexes quotes a store from before the sorted indexes holds, once, before the first read", async () => {
    // What an earlier version left: hash, set indexes and the counters, at index version 1.
    const t = h.store.keys;
    const legacy = made.slice(0, 4).map((q, i) => ({ ...q, id: `legacy-${i}`, speakerId: "sp-old" }));
    for (const q of legacy) {
      await h.redis.hset(t.entity("quote", q.id), "data", JSON.stringify(q), "rev", 1);
      for (const name of ["all", `speaker:${q.speakerId}`, `state:${q.vetting.state}`])
        await h.redis.sadd(name === "all" ? t.all("quote") : t.index("quote", name), q.id);
      await h.redis.hincrby(t.counts("quote", "all"), quoteCountField(q), 1);
    }
    await h.redis.set(t.indexVersion("quote"), "1");
    const fresh = createStore(h.redis, h.prefix);
    const page = await pageQuotes(fresh, { speakerId: "sp-old" }, { limit: 10 });
    expect(page.items.map((q) => q.id)).toEqual(legacy.sort(order).map((q) => q.id));
    expect(page.total).toBe(4);
    expect(await h.redis.exists(t.all("quote"), t.index("quote", "speaker:sp-old"))).toBe(0);
    expect(await fresh.quotes.count([])).toBe(134);
    await fresh.quotes.rebuildIndexes();
    expect(await fresh.quotes.count([])).toBe(134);
    const found = await pageQuotes(fresh, { speakerId: "sp-old", text: "quote" }, { limit: 10 });
    expect(found.items.map((q) => q.id)).toEqual(legacy.sort(order).map((q) => q.id));
    // State and locale together read their own index, built by the same re-index.
    const both = legacy.filter((q) => q.vetting.state === "vetted" && q.locale === "en").sort(order);
    expect(both.length).toBe(2);
    const pair = await pageQuotes(
      fresh,
      { speakerId: "sp-old", state: "vetted", locale: "en" },
      { limit: 10 },
    );
    expect(pair.items.map((q) => q.id)).toEqual(both.map((q) => q.id));
    expect(pair.total).toBe(2);
  });

  it("builds the text index once for a store with sorted indexes but none for text", async () => {
    // What the version before the text index left: sorted indexes and counters, no text index.
    const t = h.store.keys;
    const textKey = t.sorted("quote", "~text");
    const entries = await h.redis.zrange(textKey, 0, -1);
    expect(entries.length).toBeGreaterThanOrEqual(130);
    for (const m of entries) {
      // Each quote's remembered entries as that version wrote them: without the text index's.
      const key = t.entity("quote", m.slice(m.indexOf("|") + 1, m.indexOf(" ")));
      const ix = JSON.parse((await h.redis.hget(key, "ix"))!) as { z: [string, string][] };
      ix.z = ix.z.filter(([k]) => k !== textKey);
      await h.redis.hset(key, "ix", JSON.stringify(ix));
    }
    await h.redis.del(textKey);
    await h.redis.set(t.indexVersion("quote"), "1.quotes-sorted");
    const fresh = createStore(h.redis, h.prefix);
    const r = await pageQuotes(fresh, { text: "needle" }, { limit: 50 });
    // Whatever other tests of this file added: every quote stored whose text has the word.
    const stored = (
      await h.store.quotes.getMany(entries.map((m) => m.slice(m.indexOf("|") + 1, m.indexOf(" "))))
    )
      .map((v) => v.value)
      .filter((q) => q.text.includes("Needle"));
    expect(stored.length).toBeGreaterThanOrEqual(19);
    expect(r.items.map((q) => q.id)).toEqual(stored.sort(order).map((q) => q.id));
    expect(await h.redis.zrange(textKey, 0, -1)).toEqual(entries);
  });
});
