import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addRedaction } from "../../src/app/safety.service.js";
import { aSpeaker, saveAll } from "../support/builders.js";
import { bin, e2eWorld } from "./bin.js";

let w: Awaited<ReturnType<typeof e2eWorld>>;
let staffEnv: Record<string, string>;
let reviewerEnv: Record<string, string>;

beforeAll(async () => {
  w = await e2eWorld("redactions");
  await saveAll(w.store, { campaigns: [], quotes: [], speakers: [aSpeaker("s1", { pseudonym: "Abu Red" })] });
  staffEnv = await w.account("staff1", ["staff"]);
  reviewerEnv = await w.account("rev1", ["reviewer"]);
});
afterAll(() => w.dispose());

type Listed = { id: string; term: string; speakerId?: string; speakerPseudonym?: string; createdBy: string };

describe("testimony redactions list / remove (the built binary)", () => {
  it("lists stored terms (table and --json), removes one by id; unknown id exits 1, no role exits 1", async () => {
    const empty = await bin(["redactions", "list"], { env: staffEnv });
    expect(empty.err).toBe("");
    expect(empty.code).toBe(0);
    expect(empty.out).toBe("(none)\n");

    await addRedaction(w.store, "Global Name", "staff1");
    await addRedaction(w.store, "His Cousin", "staff1", "s1");

    const listed = await bin(["redactions", "list", "--json"], { env: staffEnv });
    expect(listed.err).toBe("");
    expect(listed.code).toBe(0);
    const terms = JSON.parse(listed.out) as Listed[];
    expect(terms.map((t) => [t.term, t.speakerId, t.speakerPseudonym, t.createdBy])).toEqual([
      ["Global Name", undefined, undefined, "staff1"],
      ["His Cousin", "s1", "Abu Red", "staff1"],
    ]);
    const table = await bin(["redactions", "list"], { env: staffEnv });
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/^ID\s+TERM\s+APPLIES TO\s+ADDED/);
    expect(table.out).toContain("Abu Red (s1)");
    expect(table.out).toContain("everyone");

    const refused = await bin(["redactions", "remove", terms[0]!.id], { env: reviewerEnv });
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^error: /);

    const removed = await bin(["redactions", "remove", terms[0]!.id], { env: staffEnv });
    expect(removed.err).toBe("");
    expect(removed.code).toBe(0);
    expect(removed.out).toBe(`${terms[0]!.id}: removed (global)\n`);
    expect((await w.store.redactions.list()).map((t) => t.term)).toEqual(["His Cousin"]);
    const audit = await w.store.audit.list({ entity: terms[0]!.id });
    expect(audit.map((a) => [a.action, a.actor])).toEqual([
      ["redaction.added", "staff1"],
      ["redaction.removed", "staff1"],
    ]);

    const again = await bin(["redactions", "remove", terms[0]!.id], { env: staffEnv });
    expect(again.code).toBe(1);
    expect(again.err).toBe(`error: redaction term ${terms[0]!.id} does not exist\n`);
  }, 90_000);
});
