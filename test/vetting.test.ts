import { readFile } from "node:fs/promises";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importQuotes, importSpeakers } from "../src/app/import.service.js";
import { changeVetting, getQuote, listQuotes } from "../src/app/quotes.service.js";
import { AppError } from "../src/domain/errors.js";
import type { VettingAction } from "../src/domain/quote.js";
import type { AuditRecord } from "../src/store/audit.store.js";
import { connectRedis } from "../src/store/redis.js";
import { createStore } from "../src/store/store.js";
import { actingAs, cli } from "./support/cli.js";
import { REDIS_URL, testStore } from "./support/redis.js";

const t = testStore("vetting");
const HEADER =
  "id,speaker_id,text,locale,narrative,source_title,source_publisher,source_url,source_published_at";

/** A fresh pending quote per test, so tests do not depend on each other's decisions. */
async function pendingQuote(id: string): Promise<string> {
  const csv = `${HEADER}\n${id},leena,"I was horrified by what I saw (${id})",en,brutality,#WhyTheyLeftDaesh,Think Again Turn Away,,2015-09-21\n`;
  await importQuotes(t.store, Buffer.from(csv), `${id}.csv`, "importer");
  return id;
}

async function appError(run: Promise<unknown>): Promise<AppError> {
  const err = await run.then(
    () => {
      throw new Error("the change was accepted");
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

const decisions = async (id: string) =>
  (await t.store.audit.list({ entity: id })).filter((a) => a.action !== "quote.imported");

beforeAll(async () => {
  await importSpeakers(t.store, await readFile("assets/sample/speakers.csv"), "speakers.csv", "setup");
});
afterAll(() => t.cleanup());

describe("legal vetting transitions", () => {
  it("pending → vetted records who and when, moves the quote between indexes and audits it", async () => {
    const id = await pendingQuote("vet-ok");
    const at = new Date("2026-02-01T10:00:00.000Z");
    const q = await changeVetting(t.store, id, "vet", "reviewer1", "checked against the ICSR report", at);
    expect(q.vetting).toEqual({
      state: "vetted",
      by: "reviewer1",
      at: "2026-02-01T10:00:00.000Z",
      note: "checked against the ICSR report",
    });
    expect(await getQuote(t.store, id)).toEqual(q);
    expect((await listQuotes(t.store, { state: "vetted" })).map((x) => x.id)).toContain(id);
    expect((await listQuotes(t.store, { state: "pending" })).map((x) => x.id)).not.toContain(id);

    const audit = await t.store.audit.list({ entity: id });
    expect(audit).toEqual([
      {
        seq: expect.any(String),
        actor: "importer",
        action: "quote.imported",
        entity: id,
        to: "pending",
        at: expect.any(String),
      },
      {
        seq: expect.any(String),
        actor: "reviewer1",
        action: "quote.vet",
        entity: id,
        from: "pending",
        to: "vetted",
        at: "2026-02-01T10:00:00.000Z",
        detail: "checked against the ICSR report",
      },
    ] satisfies AuditRecord[]);
  });

  it("pending → rejected needs a note; without one nothing changes", async () => {
    const id = await pendingQuote("reject-note");
    for (const note of [undefined, "   "]) {
      const err = await appError(changeVetting(t.store, id, "reject", "reviewer1", note));
      expect(err.code).toBe("invalid_input");
      expect(err.message).toBe("rejecting a quote needs a note saying why");
      expect(err.details).toEqual([{ field: "note", message: "required" }]);
    }
    expect((await getQuote(t.store, id)).vetting).toEqual({ state: "pending" });
    expect(await decisions(id)).toEqual([]);

    const q = await changeVetting(t.store, id, "reject", "reviewer2", "  misattributed: not in the source  ");
    expect(q.vetting).toMatchObject({
      state: "rejected",
      by: "reviewer2",
      note: "misattributed: not in the source",
    });
    expect((await decisions(id)).map((a) => [a.actor, a.action, a.from, a.to, a.detail])).toEqual([
      ["reviewer2", "quote.reject", "pending", "rejected", "misattributed: not in the source"],
    ]);
  });

  it("vetted → retired", async () => {
    const id = await pendingQuote("retire-ok");
    await changeVetting(t.store, id, "vet", "reviewer1");
    const q = await changeVetting(t.store, id, "retire", "reviewer2");
    expect(q.vetting).toMatchObject({ state: "retired", by: "reviewer2" });
    expect((await listQuotes(t.store, { state: "retired" })).map((x) => x.id)).toContain(id);
    expect((await decisions(id)).map((a) => [a.actor, a.action, a.from, a.to])).toEqual([
      ["reviewer1", "quote.vet", "pending", "vetted"],
      ["reviewer2", "quote.retire", "vetted", "retired"],
    ]);
  });

  it("a decision needs someone deciding, and a quote that exists", async () => {
    const id = await pendingQuote("no-actor");
    const noActor = await appError(changeVetting(t.store, id, "vet", "  "));
    expect(noActor.code).toBe("invalid_input");
    expect(noActor.details).toEqual([{ field: "as", message: "required" }]);
    const missing = await appError(changeVetting(t.store, "no-such-quote", "vet", "reviewer1"));
    expect(missing.code).toBe("not_found");
    expect(missing.message).toBe("quote no-such-quote does not exist");
    expect((await getQuote(t.store, id)).vetting.state).toBe("pending");
  });
});

describe("illegal vetting transitions are refused with invalid_state and change nothing", () => {
  const cases: { name: string; setup: VettingAction[]; action: VettingAction; message: string }[] = [
    {
      name: "vetted → vetted",
      setup: ["vet"],
      action: "vet",
      message: "it is vetted (allowed from pending)",
    },
    {
      name: "rejected → vetted",
      setup: ["reject"],
      action: "vet",
      message: "it is rejected (allowed from pending)",
    },
    {
      name: "pending → retired",
      setup: [],
      action: "retire",
      message: "it is pending (allowed from vetted)",
    },
    {
      name: "retired → vetted",
      setup: ["vet", "retire"],
      action: "vet",
      message: "it is retired (allowed from pending)",
    },
    {
      name: "vetted → rejected",
      setup: ["vet"],
      action: "reject",
      message: "it is vetted (allowed from pending)",
    },
  ];

  for (const [i, c] of cases.entries()) {
    it(`${c.name} (service)`, async () => {
      const id = await pendingQuote(`illegal-svc-${i}`);
      for (const a of c.setup) await changeVetting(t.store, id, a, "setup", "setup note");
      const before = await getQuote(t.store, id);
      const auditBefore = await t.redis.xlen(t.store.keys.audit);
      const err = await appError(changeVetting(t.store, id, c.action, "reviewer9", "a note"));
      expect(err.code).toBe("invalid_state");
      expect(err.message).toBe(`cannot ${c.action} quote ${id}: ${c.message}`);
      expect(await getQuote(t.store, id)).toEqual(before);
      expect(await t.redis.xlen(t.store.keys.audit)).toBe(auditBefore);
    });
  }

  for (const [i, c] of cases.slice(0, 3).entries()) {
    it(`${c.name} (CLI): exit code 1 and the reason on stderr`, async () => {
      const id = await pendingQuote(`illegal-cli-${i}`);
      for (const a of c.setup) await changeVetting(t.store, id, a, "setup", "setup note");
      const r = await cli(
        t.prefix,
        ["quotes", c.action, id, "--note", "a note"],
        await actingAs(t.store, "reviewer9"),
      );
      expect(r).toEqual({ code: 1, out: "", err: `error: cannot ${c.action} quote ${id}: ${c.message}\n` });
    });
  }
});

describe("two people deciding at once", () => {
  it("of 10 concurrent vets on one pending quote, each on its own connection, exactly one wins", async () => {
    const id = await pendingQuote("race");
    const connections: Redis[] = Array.from({ length: 10 }, () => connectRedis(REDIS_URL, "command"));
    try {
      await Promise.all(connections.map((c) => c.ping()));
      const stores = connections.map((c) => createStore(c, t.prefix));
      const results = await Promise.allSettled(
        stores.map((s, i) => changeVetting(s, id, "vet", `reviewer${i}`)),
      );
      const won = results.filter((r) => r.status === "fulfilled");
      const lost = results.filter((r) => r.status === "rejected");
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(9);
      for (const r of lost) {
        expect(r.reason).toBeInstanceOf(AppError);
        expect(["conflict", "invalid_state"]).toContain((r.reason as AppError).code);
      }
      const conflicts = lost.map((r) => r.reason as AppError).filter((e) => e.code === "conflict");
      for (const e of conflicts) {
        expect(e.message).toBe(`${id} was changed by someone else meanwhile; reload and try again`);
      }

      const winner = (won[0] as PromiseFulfilledResult<{ vetting: { by?: string } }>).value.vetting.by;
      const stored = await getQuote(t.store, id);
      expect(stored.vetting).toMatchObject({ state: "vetted", by: winner });
      expect(await t.redis.hget(t.store.quotes.keyOf(id), "rev")).toBe("2");
      const vets = (await t.store.audit.list({ entity: id })).filter((a) => a.action === "quote.vet");
      expect(vets).toHaveLength(1);
      expect(vets[0]).toMatchObject({ actor: winner, from: "pending", to: "vetted" });
    } finally {
      await Promise.all(connections.map((c) => c.quit()));
    }
  });

  it("a vet and a reject at once: one wins, the other is refused, one audit entry", async () => {
    const id = await pendingQuote("race-mixed");
    const other = connectRedis(REDIS_URL, "command");
    try {
      const results = await Promise.allSettled([
        changeVetting(t.store, id, "vet", "reviewer1"),
        changeVetting(createStore(other, t.prefix), id, "reject", "reviewer2", "not in the source"),
      ]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      expect(await decisions(id)).toHaveLength(1);
    } finally {
      await other.quit();
    }
  });
});

describe("the CLI", () => {
  it("vet, reject and retire print the new state and exit 0; the audit trail lists every change", async () => {
    const a = await pendingQuote("cli-a");
    const b = await pendingQuote("cli-b");
    const reviewer1 = await actingAs(t.store, "reviewer1");
    const reviewer2 = await actingAs(t.store, "reviewer2");
    expect(await cli(t.prefix, ["quotes", "vet", a], reviewer1)).toEqual({
      code: 0,
      out: `${a}: vetted by reviewer1\n`,
      err: "",
    });
    expect(await cli(t.prefix, ["quotes", "retire", a], reviewer2)).toEqual({
      code: 0,
      out: `${a}: retired by reviewer2\n`,
      err: "",
    });
    expect(await cli(t.prefix, ["quotes", "reject", b, "--note", "wrong speaker"], reviewer1)).toMatchObject({
      code: 0,
      out: `${b}: rejected by reviewer1\n`,
    });

    const r = await cli(t.prefix, ["audit", "--entity", a, "--json"]);
    expect(r.code).toBe(0);
    const entries = JSON.parse(r.out) as AuditRecord[];
    expect(entries.map((e) => [e.actor, e.action, e.entity, e.from, e.to])).toEqual([
      ["importer", "quote.imported", a, undefined, "pending"],
      ["reviewer1", "quote.vet", a, "pending", "vetted"],
      ["reviewer2", "quote.retire", a, "vetted", "retired"],
    ]);
    for (const e of entries) expect(Number.isNaN(Date.parse(e.at))).toBe(false);

    const table = await cli(t.prefix, ["audit", "--entity", b]);
    expect(table.out).toMatch(/^AT\s+ACTOR\s+ACTION\s+ENTITY\s+FROM\s+TO\n/);
    expect(table.out).toMatch(/reviewer1\s+quote\.reject\s+cli-b\s+pending\s+rejected\n$/);
  });

  it("usage errors exit 2 and change nothing: no token, missing --note on reject, unknown option", async () => {
    const id = await pendingQuote("cli-usage");
    const reviewer1 = await actingAs(t.store, "reviewer1");
    const noToken = await cli(t.prefix, ["quotes", "vet", id]);
    expect(noToken.code).toBe(2);
    expect(noToken.err).toContain("this command acts as an account: set TESTIMONY_TOKEN");
    const noNote = await cli(t.prefix, ["quotes", "reject", id], reviewer1);
    expect(noNote.code).toBe(2);
    expect(noNote.err).toContain("error: required option '--note <text>' not specified");
    const unknown = await cli(t.prefix, ["quotes", "vet", id, "--force"], reviewer1);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain("error: unknown option '--force'");
    const noSuchQuote = await cli(t.prefix, ["quotes", "vet", "no-such-quote"], reviewer1);
    expect(noSuchQuote).toMatchObject({ code: 1, err: "error: quote no-such-quote does not exist\n" });
    expect((await getQuote(t.store, id)).vetting).toEqual({ state: "pending" });
    expect(await decisions(id)).toEqual([]);
  });
});
