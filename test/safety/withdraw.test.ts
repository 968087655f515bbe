import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { exportSlot } from "../../src/app/export.service.js";
import { decide, listOutputs } from "../../src/app/review.service.js";
import { ackTakedowns, withdrawConsent } from "../../src/app/safety.service.js";
import { aCampaign, anOutput, aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { testStore } from "../support/redis.js";

const log = pino({ level: "silent" });
const opened: { cleanup(): Promise<void> }[] = [];
afterAll(async () => {
  for (const t of opened) await t.cleanup();
});

async function setup(name: string, campaignOver = {}) {
  const t = testStore(name);
  opened.push(t);
  const dataDir = await mkdtemp(path.join(tmpdir(), "tm-safety-"));
  const exportDir = path.join(dataDir, "exports");
  await saveAll(t.store, {
    campaigns: [aCampaign(campaignOver)],
    speakers: [aSpeaker("a"), aSpeaker("b"), aSpeaker("c")],
  });
  const deps = { store: t.store, dataDir, exportDir, log };
  let slotN = 0;
  const drop = () =>
    exportSlot(deps, {
      campaignId: "why-they-left",
      slot: new Date(Date.UTC(2026, 10, 23 + 7 * slotN++, 6)),
      actor: "scheduler",
    });
  const manifestOf = async (r: Awaited<ReturnType<typeof drop>>) => {
    if (r.status === "empty") return undefined;
    return JSON.parse(await readFile(path.join(exportDir, r.bundle.dir, "manifest.json"), "utf8")) as {
      outputs: { id: string }[];
      takedowns: { outputId: string }[];
    };
  };
  const outputFor = async (
    id: string,
    speaker: string,
    status: "approved" | "in_review" = "approved",
    approvedAt?: string,
  ) => {
    const q = aQuote(id, speaker);
    await saveAll(t.store, { quotes: [q] });
    return anOutput(t.store, dataDir, q, { status, approvedAt, id: `o-${id}` });
  };
  return { ...t, deps, drop, manifestOf, outputFor };
}

describe("consent withdrawal", () => {
  it("before review: the output leaves the review queue and is never exported", async () => {
    const e = await setup("withdraw-review");
    const o = await e.outputFor("q1", "a", "in_review");
    await withdrawConsent(e.store, "a", "staff1", "asked by phone");
    expect((await listOutputs(e.store, { status: "in_review" })).map((x) => x.id)).not.toContain(o.id);
    await expect(decide(e.store, o.id, "approved", "reviewer1")).rejects.toMatchObject({
      code: "invalid_state",
    });
    expect((await e.drop()).status).toBe("empty");
    expect((await e.store.outputs.get(o.id))!.value.status).toBe("withdrawn");
  });

  it("after approval: never exported; outputs of other speakers still are", async () => {
    const e = await setup("withdraw-approved");
    const mine = await e.outputFor("q1", "a");
    const other = await e.outputFor("q2", "b");
    await withdrawConsent(e.store, "a", "staff1");
    const m = await e.manifestOf(await e.drop());
    expect(m!.outputs.map((x) => x.id)).toEqual([other.id]);
    expect((await e.store.outputs.get(mine.id))!.value.status).toBe("withdrawn");
  });

  it("after a drop: the output is a takedown in every later bundle until acknowledged", async () => {
    const e = await setup("withdraw-dropped");
    const dropped = await e.outputFor("q1", "a");
    expect((await e.manifestOf(await e.drop()))!.outputs.map((x) => x.id)).toEqual([dropped.id]);
    await withdrawConsent(e.store, "a", "staff1");
    await e.outputFor("q2", "b");
    const second = await e.manifestOf(await e.drop());
    expect(second!.takedowns).toEqual([{ outputId: dropped.id, action: "take down" }]);
    // Nothing new approved: the takedown still travels, in a takedown-only bundle.
    const third = await e.manifestOf(await e.drop());
    expect(third!.outputs).toEqual([]);
    expect(third!.takedowns.map((x) => x.outputId)).toEqual([dropped.id]);
    await ackTakedowns(e.store, "why-they-left", [dropped.id], "staff1");
    expect((await e.drop()).status).toBe("empty");
    await expect(ackTakedowns(e.store, "why-they-left", ["o-unknown"], "staff1")).rejects.toMatchObject({
      code: "invalid_input",
    });
  });

  it("racing a drop: the output is either left out of the bundle or listed as a takedown in the next, never neither", async () => {
    const rounds = 8;
    expect.assertions(rounds * 4);
    for (let round = 0; round < rounds; round++) {
      const e = await setup(`withdraw-race-${round}`);
      const target = await e.outputFor("q1", "a");
      await e.outputFor("q2", "b");
      const [first] = await Promise.all([
        e.drop(),
        // A different head start per round moves the withdrawal across the drop's three steps.
        new Promise((r) => setTimeout(r, round * 3)).then(() => withdrawConsent(e.store, "a", "staff1")),
      ]);
      await e.outputFor("q3", "c");
      const next = await e.drop();
      const m1 = await e.manifestOf(first);
      const m2 = await e.manifestOf(next);
      const inFirst = m1?.outputs.some((x) => x.id === target.id) ?? false;
      const takenDown = m2?.takedowns.some((x) => x.outputId === target.id) ?? false;
      expect(inFirst ? takenDown : true, `round ${round}: exported without a takedown`).toBe(true);
      // Which commit came first is what counts, not the clock: the audit stream orders commits (each
      // commit appends its entries atomically). The consent's withdrawnAt is stamped when the withdrawal
      // was asked for, before it retried past the drop's commit, so a drop may be marked exported after
      // that instant and still have committed first.
      const after = (await e.store.outputs.get(target.id))!.value;
      const trail = await e.store.audit.list();
      const seqOf = (action: string, entity: string) =>
        trail.findIndex((x) => x.action === action && x.entity === entity);
      const exportedSeq = seqOf("output.exported", target.id);
      const withdrawnSeq = seqOf("speaker.consent_withdrawn", "a");
      if (after.status === "exported") {
        // Exported only if the drop committed before the withdrawal, and then it is taken down.
        expect(
          { before: exportedSeq >= 0 && exportedSeq < withdrawnSeq, inFirst, takenDown },
          `round ${round}`,
        ).toEqual({ before: true, inFirst: true, takenDown: true });
        expect(seqOf("output.takedown_requested", target.id), `round ${round}`).toBeGreaterThan(withdrawnSeq);
      } else {
        expect(after.status, `round ${round}`).toBe("withdrawn");
        expect(exportedSeq, `round ${round}: never marked exported`).toBe(-1);
      }
      expect(withdrawnSeq, `round ${round}: the withdrawal is in the audit`).toBeGreaterThanOrEqual(0);
    }
  });
});

describe("exposure cap", () => {
  it("three speakers with 1, 4 and 9 approved outputs and a cap of 2: round-robin, the rest wait", async () => {
    const e = await setup("cap", { exposure: { maxPerSpeakerPerDrop: 2 } });
    let n = 0;
    const at = () => new Date(Date.UTC(2026, 10, 1, 0, n++)).toISOString();
    for (const [speaker, count] of [
      ["a", 1],
      ["b", 4],
      ["c", 9],
    ] as const) {
      for (let i = 0; i < count; i++) await e.outputFor(`${speaker}${i}`, speaker, "approved", at());
    }
    const perSpeaker = (m: { outputs: { id: string }[] }) =>
      m.outputs.reduce<Record<string, number>>((acc, o) => {
        const s = o.id.slice(2, 3);
        acc[s] = (acc[s] ?? 0) + 1;
        return acc;
      }, {});
    expect(perSpeaker((await e.manifestOf(await e.drop()))!)).toEqual({ a: 1, b: 2, c: 2 });
    expect(perSpeaker((await e.manifestOf(await e.drop()))!)).toEqual({ b: 2, c: 2 });
    expect(perSpeaker((await e.manifestOf(await e.drop()))!)).toEqual({ c: 2 });
    const left = await listOutputs(e.store, { status: "approved" });
    expect(left).toHaveLength(3);
  });
});
