import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { addRedaction } from "../../src/app/safety.service.js";
import { move, type Output } from "../../src/domain/output.js";
import { anOutput, aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { testStore } from "../support/redis.js";

/** Where an output is in the sorted indexes and counters, read straight from Redis. */
async function placement(t: ReturnType<typeof testStore>, o: Output) {
  const inStatus = async (status: string) =>
    (await t.store.outputs.ids([`campaign:${o.campaignId}:status:${status}`])).includes(o.id);
  return {
    queued: await inStatus("queued"),
    rendering: await inStatus("rendering"),
    approved: await inStatus("approved"),
    in_review: await inStatus("in_review"),
    counts: await t.store.outputs.counts(`campaign:${o.campaignId}`),
  };
}

describe("commit script (real Redis)", () => {
  it("moves index entries and counters from the caller's diff, and diffs itself when the caller's idea of the previous value is stale", async () => {
    const t = testStore("commit-ix");
    const dataDir = await mkdtemp(path.join(tmpdir(), "tm-commit-"));
    try {
      const quote = aQuote("q1", "s1");
      await saveAll(t.store, { speakers: [aSpeaker("s1")], quotes: [quote] });
      const o = await anOutput(t.store, dataDir, quote, { status: "queued" });
      const v1 = (await t.store.outputs.get(o.id))!;
      const at = "2026-02-01T00:00:00.000Z";
      const rendering = move(v1.value, "rendering", at);
      await t.store.outputs.commit({ writes: [t.store.outputs.write(rendering, v1)] });
      let p = await placement(t, o);
      expect(p).toMatchObject({ queued: false, rendering: true });
      expect(Object.values(p.counts)).toEqual([1]);

      // The caller claims the previous value was approved (it is rendering): its diff would remove
      // approved entries and leave the rendering ones behind. The stored set's digest differs, so the
      // script diffs against what is stored instead.
      const v2 = (await t.store.outputs.get(o.id))!;
      const stale = { value: { ...v2.value, status: "approved" as const }, rev: v2.rev };
      await t.store.outputs.commit({
        writes: [t.store.outputs.write(move(v2.value, "in_review", at), stale)],
      });
      p = await placement(t, o);
      expect(p).toMatchObject({ queued: false, rendering: false, approved: false, in_review: true });
      expect(p.counts).toEqual({ [`in_review|${o.narrative}|${o.locale}|${o.format}`]: 1 });
      // A full rebuild finds nothing to correct.
      const before = await t.store.outputs.counts(`campaign:${o.campaignId}`);
      await t.store.outputs.rebuildIndexes();
      expect(await t.store.outputs.counts(`campaign:${o.campaignId}`)).toEqual(before);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
      await t.cleanup({ afterWorkers: false });
    }
  });

  it("reads hashes and sets after its writes, in the same call; a stale revision writes and reads nothing", async () => {
    const t = testStore("commit-read");
    try {
      const quote = aQuote("q1", "s1");
      await saveAll(t.store, { speakers: [aSpeaker("s1")], quotes: [quote] });
      const { id } = await addRedaction(t.store, "Secret Name", "staff1", "s1");
      const q = (await t.store.quotes.get("q1"))!;
      const next = { ...q.value, text: "Changed." };
      const read = await t.store.quotes.commit({
        writes: [t.store.quotes.write(next, q)],
        read: {
          hashes: [t.store.quotes.keyOf("q1"), t.store.speakers.keyOf("nobody")],
          sets: [t.store.redactions.indexKey("speaker:s1"), t.store.redactions.indexKey("global")],
        },
      });
      expect(t.store.quotes.decode(read.hashes[0]!.data!).text).toBe("Changed.");
      expect(read.hashes[0]!.rev).toBe(q.rev + 1);
      expect(read.hashes[1]).toEqual({ rev: 0 });
      expect(read.sets).toEqual([[id], []]);
      await expect(
        t.store.quotes.commit({ writes: [t.store.quotes.write(next, q)], read: { hashes: [] } }),
      ).rejects.toMatchObject({ code: "conflict" });
    } finally {
      await t.cleanup({ afterWorkers: false });
    }
  });
  it("reads each revision once: a key written twice in one batch gets two revisions, and the last value with its index entries", async () => {
    const t = testStore("commit-rev");
    try {
      const quote = aQuote("q1", "s1");
      await saveAll(t.store, { speakers: [aSpeaker("s1")], quotes: [quote] });
      const q = (await t.store.quotes.get("q1"))!;
      const first = { ...q.value, text: "First." };
      const second = { ...first, narrative: "brutality" as const, text: "Second." };
      await t.store.quotes.commit({
        writes: [t.store.quotes.write(first, q), t.store.quotes.write(second, { value: first, rev: -1 })],
      });
      const after = (await t.store.quotes.get("q1"))!;
      expect(after.rev).toBe(q.rev + 2);
      expect(after.value.text).toBe("Second.");
      expect(await t.store.quotes.ids(["narrative:brutality"])).toEqual(["q1"]);
      expect(await t.store.quotes.ids([`narrative:${q.value.narrative}`])).toEqual([]);
      // The stored entries are the ones a rebuild gives: a rebuild changes nothing.
      const counts = await t.store.quotes.counts("all");
      await t.store.quotes.rebuildIndexes();
      expect(await t.store.quotes.counts("all")).toEqual(counts);
      expect(await t.store.quotes.ids(["narrative:brutality"])).toEqual(["q1"]);
      // The next commit is checked against the last revision.
      await expect(
        t.store.quotes.commit({
          writes: [t.store.quotes.write({ ...second, text: "Third." }, { value: second, rev: q.rev + 1 })],
        }),
      ).rejects.toMatchObject({ code: "conflict" });
    } finally {
      await t.cleanup({ afterWorkers: false });
    }
  });
  it("one batch of several kinds lands whole: set moves, sorted moves, extra ops, audit entries in order, then the reads", async () => {
    const t = testStore("commit-mixed");
    try {
      await saveAll(t.store, { speakers: [aSpeaker("s1"), aSpeaker("s2")], quotes: [aQuote("q1", "s1")] });
      const [s1, s2] = await t.store.speakers.getMany(["s1", "s2"]);
      const q = (await t.store.quotes.get("q1"))!;
      const marker = t.store.keys.misc("commit-mixed-marker");
      const read = await t.store.quotes.commit({
        writes: [
          t.store.speakers.write({ ...s1!.value, attribution: "anonymous" }, s1),
          t.store.quotes.write({ ...q.value, narrative: "brutality" }, q),
          t.store.speakers.write({ ...s2!.value, attribution: "anonymous" }, s2),
        ],
        ops: [
          ["SADD", marker, "a", "b"],
          ["SADD", marker, "c"],
        ],
        audit: [
          { actor: "t", action: "first", entity: "s1", at: "2026-02-01T00:00:00.000Z" },
          { actor: "t", action: "second", entity: "q1", at: "2026-02-01T00:00:00.000Z", detail: "d" },
        ],
        read: {
          hashes: [t.store.speakers.keyOf("s2"), t.store.quotes.keyOf("q1")],
          sets: [t.store.speakers.indexKey("attribution:anonymous"), marker],
        },
      });
      expect(await t.store.speakers.ids(["attribution:anonymous"])).toEqual(["s1", "s2"]);
      expect(await t.store.speakers.ids(["attribution:pseudonym"])).toEqual([]);
      expect(await t.store.quotes.ids(["narrative:brutality"])).toEqual(["q1"]);
      expect(await t.store.quotes.ids([`narrative:${q.value.narrative}`])).toEqual([]);
      expect((await t.store.redis.smembers(marker)).sort()).toEqual(["a", "b", "c"]);
      const audit = await t.store.audit.list();
      expect(audit.slice(-2).map((e) => [e.action, e.entity, e.detail])).toEqual([
        ["first", "s1", undefined],
        ["second", "q1", "d"],
      ]);
      expect(read.hashes.map((h) => [h.rev, h.data && JSON.parse(h.data).id])).toEqual([
        [s2!.rev + 1, "s2"],
        [q.rev + 1, "q1"],
      ]);
      expect(read.sets.map((m) => m.sort())).toEqual([
        ["s1", "s2"],
        ["a", "b", "c"],
      ]);
    } finally {
      await t.cleanup({ afterWorkers: false });
    }
  });
});
