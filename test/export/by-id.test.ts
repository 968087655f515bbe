// Reserve and mark exported by id, in Redis (src/store/export-outputs.store.ts), must leave the store
// exactly as the generic path (read each record, write it back through the commit script) leaves it:
// every record byte for byte, its revision, its index entries and counters, the audit stream.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { markExported } from "../../src/app/export/mark-exported.js";
import type { Bundle } from "../../src/domain/bundle.js";
import { move, type Output } from "../../src/domain/output.js";
import { createExportOutputsStore } from "../../src/store/export-outputs.store.js";
import type { Store } from "../../src/store/store.js";
import { aCampaign, anOutput, aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { testStore } from "../support/redis.js";

const CAMPAIGN = "why-they-left";
const BUNDLE = `${CAMPAIGN}/2026-11-23T06:00:00Z`;
const AT = "2026-11-23T06:00:05.123Z";
const WITHDRAWN_AT = "2026-11-23T06:00:03.000Z";
const opened: ReturnType<typeof testStore>[] = [];
afterAll(async () => {
  for (const t of opened) await t.cleanup({ afterWorkers: false });
});

// Texts that would trip a careless string patch or a cjson round trip: escaped key look-alikes,
// "/", non-ASCII, an empty array, a large number.
const TEXTS = [
  'He wrote "status":"approved" and "updatedAt":"x" on the wall',
  "Paths like a/b/c and \\ back\\slashes",
  "Arabic: لماذا غادروا، and emoji 🕊️",
  "plain",
];

async function world(name: string) {
  const t = testStore(name);
  opened.push(t);
  const dataDir = await mkdtemp(path.join(tmpdir(), "tm-byid-"));
  const quotes = TEXTS.map((text, i) => aQuote(`q${i}`, i % 2 ? "s2" : "s1", { text }));
  await saveAll(t.store, { campaigns: [aCampaign()], speakers: [aSpeaker("s1"), aSpeaker("s2")], quotes });
  const ids: string[] = [];
  for (const [i, q] of quotes.entries()) {
    const o = await anOutput(t.store, dataDir, q, { approvedAt: `2026-11-0${i + 1}T10:00:00.000Z` });
    ids.push(o.id);
  }
  // A large number, kept exactly (cjson would round it).
  const v = (await t.store.outputs.get(ids[0]!))!;
  await t.store.outputs.commit({
    writes: [t.store.outputs.write({ ...v.value, cardBytes: 9007199254740991 }, v)],
  });
  // `updatedAt` before `status`: the patch places both wherever they stand.
  const w = (await t.store.outputs.get(ids[3]!))!;
  await t.store.outputs.commit({
    writes: [t.store.outputs.write(Object.assign({ updatedAt: "" }, w.value), w)],
  });
  const bundle: Bundle = {
    id: BUNDLE,
    campaignId: CAMPAIGN,
    slot: "2026-11-23T06:00:00.000Z",
    status: "writing",
    outputIds: [...ids].sort(),
    takedowns: [],
    dir: `${CAMPAIGN}/2026-11-23T06-00-00Z`,
    createdAt: AT,
    createdBy: "staff1",
    owner: "test",
  };
  await t.store.bundles.commit({ writes: [t.store.bundles.write(bundle)] });
  return { ...t, dataDir, ids: [...ids].sort(), bundle: { value: bundle, rev: 1 } };
}

/** The generic path, as the drop did it before (read, change, write back by revision). */
async function reserveGeneric(store: Store, ids: string[]) {
  const free = (await store.outputs.getMany(ids)).filter(
    (v) => v.value.status === "approved" && !v.value.bundleId,
  );
  await store.outputs.commit({
    writes: free.map((v) => store.outputs.write({ ...v.value, bundleId: BUNDLE }, v)),
  });
}
async function markGeneric(store: Store, ids: string[]) {
  const outs = await store.outputs.getMany(ids);
  const exported = outs.filter((v) => v.value.status === "approved" && v.value.bundleId === BUNDLE);
  await store.outputs.commit({
    writes: exported.map((v) =>
      store.outputs.write(move(v.value, "exported", AT, { exportedAt: AT, bundleId: BUNDLE }), v),
    ),
    ops: outs
      .filter((v) => v.value.status === "withdrawn")
      .map((v) => ["SADD", store.takedownsKey(CAMPAIGN), v.value.id]),
    audit: exported.map((v) => ({
      actor: "staff1",
      action: "output.exported",
      entity: v.value.id,
      from: "approved",
      to: "exported",
      at: AT,
      detail: BUNDLE,
    })),
  });
}
async function withdraw(store: Store, id: string) {
  const v = (await store.outputs.get(id))!;
  await store.outputs.commit({
    writes: [store.outputs.write(move(v.value, "withdrawn", WITHDRAWN_AT, { withdrawnAt: WITHDRAWN_AT }), v)],
  });
}

/** Every key under the prefix and its whole content (stream entries without their ids), prefix-free. */
async function snapshot(redis: Redis, prefix: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  let cursor = "0";
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", `{${prefix}}:*`, "COUNT", 1000);
    cursor = next;
    for (const k of found) {
      const type = await redis.type(k);
      const name = k;
      if (type === "hash") out[name] = await redis.hgetall(k);
      else if (type === "zset") out[name] = await redis.zrange(k, 0, -1, "WITHSCORES");
      else if (type === "set") out[name] = (await redis.smembers(k)).sort();
      else if (type === "stream") out[name] = (await redis.xrange(k, "-", "+")).map(([, f]) => f);
      else out[name] = await redis.get(k);
    }
  } while (cursor !== "0");
  // Index entries name their keys (with the prefix) inside the values too.
  return JSON.parse(JSON.stringify(out).replaceAll(`{${prefix}}`, "{P}"));
}

describe("reserve and mark exported by id, in Redis", () => {
  it("leaves every key exactly as the generic path does: records byte for byte, revisions, indexes, counters, audit", async () => {
    const a = await world("byid-new");
    const b = await world("byid-old");
    const byId = createExportOutputsStore(a.store);
    const key = { id: BUNDLE, campaignId: CAMPAIGN, rev: a.bundle.rev };

    const reserved = await byId.reserve(key, a.ids);
    expect(reserved).toEqual({ kind: "done", codes: a.ids.map(() => "R") });
    await reserveGeneric(b.store, b.ids);
    expect(await snapshot(a.redis, a.prefix)).toEqual(await snapshot(b.redis, b.prefix));

    // Reserving again changes nothing (each is in a bundle now).
    expect(await byId.reserve(key, a.ids)).toEqual({ kind: "done", codes: a.ids.map(() => "S") });

    await withdraw(a.store, a.ids[1]!);
    await withdraw(b.store, b.ids[1]!);
    const marked = await byId.mark(key, a.ids, { at: AT, actor: "staff1" });
    expect(marked).toEqual({ kind: "done", codes: a.ids.map((_, i) => (i === 1 ? "W" : "E")) });
    await markGeneric(b.store, b.ids);
    const after = await snapshot(a.redis, a.prefix);
    expect(after).toEqual(await snapshot(b.redis, b.prefix));
    // The number cjson would round is kept; [] stays [].
    const raw = (await a.redis.hget(a.store.outputs.keyOf(a.ids[0]!), "data"))!;
    expect(raw).toContain('"cardBytes":9007199254740991');
    expect(raw).toContain('"missedDrops":[]');
    expect(raw).toContain('"exportedAt":"2026-11-23T06:00:05.123Z"}');

    // Rebuilding the indexes and counters from the records finds nothing to change.
    await a.store.outputs.rebuildIndexes();
    expect(await snapshot(a.redis, a.prefix)).toEqual(after);

    // Marking again: already exported, nothing written.
    expect(await byId.mark(key, a.ids, { at: AT, actor: "staff1" })).toEqual({
      kind: "done",
      codes: a.ids.map((_, i) => (i === 1 ? "W" : "A")),
    });
    expect(await snapshot(a.redis, a.prefix)).toEqual(after);
  });

  it("writes nothing once the bundle has moved on (its revision is the guard)", async () => {
    const a = await world("byid-guard");
    const byId = createExportOutputsStore(a.store);
    const before = await snapshot(a.redis, a.prefix);
    const stale = { id: BUNDLE, campaignId: CAMPAIGN, rev: a.bundle.rev - 1 };
    expect(await byId.reserve(stale, a.ids)).toEqual({ kind: "conflict", rev: a.bundle.rev });
    expect(await byId.mark(stale, a.ids, { at: AT, actor: "staff1" })).toEqual({
      kind: "conflict",
      rev: a.bundle.rev,
    });
    expect(await snapshot(a.redis, a.prefix)).toEqual(before);
  });

  it("a record it cannot patch safely (a nested key of the same name) sends the batch the generic way, with the same result", async () => {
    const a = await world("byid-odd");
    const b = await world("byid-odd-old");
    const odd = (s: Store) => async (id: string) => {
      const v = (await s.outputs.get(id))!;
      const value = { ...v.value, extra: { status: "approved", updatedAt: "x" } } as Output;
      await s.outputs.commit({ writes: [s.outputs.write(value, v)] });
    };
    await odd(a.store)(a.ids[2]!);
    await odd(b.store)(b.ids[2]!);
    const byId = createExportOutputsStore(a.store);
    const key = { id: BUNDLE, campaignId: CAMPAIGN, rev: a.bundle.rev };
    expect((await byId.reserve(key, a.ids)).kind).toBe("done");
    await reserveGeneric(b.store, b.ids);
    const before = await snapshot(a.redis, a.prefix);
    expect(await byId.mark(key, a.ids, { at: AT, actor: "staff1" })).toEqual({ kind: "fallback" });
    expect(await snapshot(a.redis, a.prefix)).toEqual(before);

    // Through the drop's own marking: the batch goes the generic way and ends as the generic path does.
    const done = await markExported(a.store, a.bundle.value, a.ids, { sha256: "x", bytes: 1 }, "staff1", {
      batch: 256,
    });
    expect(done.status).toBe("complete");
    const outs = await a.store.outputs.getMany(a.ids);
    for (const { value: o } of outs) expect(o).toMatchObject({ status: "exported", bundleId: BUNDLE });
    const extra = outs.find((v) => v.value.id === a.ids[2])!.value as Output & { extra: unknown };
    expect(extra.extra).toEqual({ status: "approved", updatedAt: "x" });
    await a.store.outputs.rebuildIndexes();
    const counts = await a.store.outputs.counts(`campaign:${CAMPAIGN}`);
    expect(Object.keys(counts).every((f) => f.startsWith("exported|"))).toBe(true);
  });
});
