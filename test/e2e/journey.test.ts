import { copyFile, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { changeVetting } from "../../src/app/quotes.service.js";
import { until } from "../support/poll.js";
import { bin, e2eWorld, RoleProcess } from "./bin.js";

const SAMPLE = path.resolve("assets/sample");
const worlds: Awaited<ReturnType<typeof e2eWorld>>[] = [];
const roles: RoleProcess[] = [];
afterEach(async () => {
  for (const r of roles.splice(0)) await r.stop().catch(() => {});
  for (const w of worlds.splice(0)) await w.dispose();
});

async function world(name: string) {
  const w = await e2eWorld(name);
  worlds.push(w);
  return w;
}

const ok = (r: { code: number | null; err: string }) => {
  expect(r.err).toBe("");
  expect(r.code).toBe(0);
};

/**
 * Sample speakers, quotes and campaign imported through the binary as `env`'s account; two quotes are
 * vetted through the binary too, the rest through the same use case in-process (spawns cost ~1 s each).
 */
async function sampleData(
  w: Awaited<ReturnType<typeof e2eWorld>>,
  env: Record<string, string>,
  campaignFile = path.join(SAMPLE, "campaign.json"),
) {
  ok(await bin(["speakers", "import", path.join(SAMPLE, "speakers.csv")], { env }));
  const quotes = await bin(["quotes", "import", path.join(SAMPLE, "quotes.csv")], { env });
  ok(quotes);
  expect(quotes.out).toContain("10 created");
  ok(await bin(["campaigns", "create", campaignFile], { env }));
  const pending = JSON.parse(
    (await bin(["quotes", "list", "--state", "pending", "--all", "--json"], { env })).out,
  ) as {
    id: string;
  }[];
  for (const q of pending.slice(0, 2)) {
    const vetted = await bin(["quotes", "vet", q.id, "--note", "sample"], { env });
    ok(vetted);
    expect(vetted.out).toMatch(/: vetted by \S+\n$/);
  }
  for (const q of pending.slice(2)) await changeVetting(w.store, q.id, "vet", "staff1", "sample");
  return pending.map((q) => q.id);
}

// Each test spawns the binary a few dozen times (~0.5-1 s each on two busy cores).
describe("a campaign from import to drop, through the shipped binary", { timeout: 150_000 }, () => {
  it("operator makes accounts; staff import, vet, queue (waiting) and drop; a reviewer approves; the bundle verifies", async () => {
    const w = await world("journey");
    const added = await bin(["users", "add", "Staff1", "--role", "staff"], { env: w.env });
    ok(added);
    expect(added.out).toMatch(/^staff1 \(staff\) token: tm_/);
    const staffToken = /token: (tm_\S+)/.exec(added.out)![1]!;
    const staff = { ...w.env, TESTIMONY_TOKEN: staffToken };
    const reviewer = await w.account("rev1", ["reviewer"]);

    // A name differing only in case is the same account: refused as existing.
    const again = await bin(["users", "add", "STAFF1", "--role", "reviewer"], { env: w.env });
    expect(again.code).toBe(1);
    expect(again.err).toContain("user staff1 exists already");

    const vetted = await sampleData(w, staff, path.join(SAMPLE, "campaign.json"));
    expect(vetted).toHaveLength(10);

    const listed = await bin(["users", "list", "--json"], { env: w.env });
    expect((JSON.parse(listed.out) as { id: string }[]).map((u) => u.id).sort()).toEqual(["rev1", "staff1"]);

    const worker = new RoleProcess(["work", "--queue", "render", "--concurrency", "2"], w.env);
    roles.push(worker);
    await worker.logged("worker started");

    // Waiting is the default: the command shows the outcome and exits by itself.
    const queued = await bin(["queue", "why-they-left", "--quote", "not-protecting-en", "not-holy-war-en"], {
      env: staff,
      deadlineMs: 60_000,
    });
    ok(queued);
    expect(queued.out).toContain("why-they-left: 8 outputs (8 new, 0 existing), 8 render jobs added");
    expect(queued.out).toContain("rendered: 8, failed: 0");

    const listed8 = JSON.parse((await bin(["review", "list", "--json"], { env: w.env })).out) as {
      items: { id: string; queuedBy: string }[];
      total: number;
    };
    const inReview = listed8.items;
    expect(inReview).toHaveLength(8);
    expect(listed8.total).toBe(8);
    // Paging: three, then the rest from the printed cursor, each output once.
    const first = await bin(["review", "list", "--limit", "3"], { env: w.env });
    ok(first);
    const cursor = /next page: --cursor (\S+)/.exec(first.out)![1]!;
    expect(first.out).toContain("3 of 8; next page");
    const rest = JSON.parse(
      (await bin(["review", "list", "--json", "--limit", "10", "--cursor", cursor], { env: w.env })).out,
    ) as { items: { id: string }[]; nextCursor?: string };
    expect(rest.items.map((o) => o.id)).toEqual(inReview.slice(3).map((o) => o.id));
    expect(rest.nextCursor).toBeUndefined();
    expect(new Set(inReview.map((o) => o.queuedBy))).toEqual(new Set(["staff1"]));
    const ids = inReview.map((o) => o.id);

    // Four eyes on the CLI: the account that queued cannot approve, whatever --as says.
    const own = await bin(["review", "approve", ids[0]!], {
      env: { ...staff, TESTIMONY_TOKEN: staffToken },
    });
    expect(own.code).toBe(1);
    expect(own.err).toContain("may not do this: it needs review");
    const spoof = await bin(["review", "approve", ids[0]!, "--as", "rev1"], { env: staff });
    expect(spoof.code).toBe(1);
    expect(spoof.err).toContain("staff1 (staff) may not do this");

    const rejected = await bin(["review", "reject", ids[7]!, "--comment", "weak crop"], { env: reviewer });
    ok(rejected);
    expect(rejected.out).toBe(`${ids[7]}: rejected by rev1\n`);
    const approved = await bin(["review", "approve", ...ids.slice(0, 7)], { env: reviewer });
    ok(approved);
    expect(approved.out.trim().split("\n")).toHaveLength(7);

    const dropped = await bin(["export", "why-they-left", "--now"], { env: staff });
    ok(dropped);
    // Exposure cap 2 per speaker per drop: two speakers here, so 4 of 7 go now.
    expect(dropped.out).toMatch(/^b-why-they-left-\d+: 4 outputs, 0 takedowns$/m);
    expect(dropped.out).toContain("held back by the exposure cap");
    const zip = /^\s+(\S+bundle\.zip)$/m.exec(dropped.out)![1]!;
    expect((await stat(zip)).size).toBeGreaterThan(10_000);

    const verified = await bin(["bundles", "verify", zip], { env: w.env });
    ok(verified);
    expect(verified.out).toMatch(/ok, \d+ entries match the manifest/);
    const bundles = JSON.parse((await bin(["bundles", "list", "--json"], { env: w.env })).out) as {
      status: string;
      outputIds: string[];
    }[];
    expect(bundles).toMatchObject([{ status: "complete" }]);
    expect(bundles[0]!.outputIds).toHaveLength(4);

    // A tampered bundle fails verification with exit 1.
    const copy = path.join(w.dir, "tampered.zip");
    await copyFile(zip, copy);
    const bytes = await readFile(copy);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    await writeFile(copy, bytes);
    expect((await bin(["bundles", "verify", copy], { env: w.env })).code).toBe(1);

    const audit = JSON.parse((await bin(["audit", "--json", "--limit", "500"], { env: w.env })).out) as {
      actor: string;
    }[];
    const actors = new Set(audit.map((e) => e.actor));
    expect([...actors].sort()).toEqual(["operator", "render-worker", "rev1", "staff1"]);

    const coverage = await bin(["report", "coverage", "why-they-left"], { env: w.env });
    ok(coverage);
    expect(coverage.out).toMatch(/^corruption\s+landscape\s+1\/[01]\/[01](\s|$)/m);
  });

  it("campaign edits keep a paused campaign paused and the audit says what changed", async () => {
    const w = await world("campaign-edit");
    const staff = await w.account("staff1", ["staff"]);
    ok(await bin(["campaigns", "create", path.join(SAMPLE, "campaign.json")], { env: staff }));
    expect((await bin(["campaigns", "pause", "why-they-left"], { env: staff })).out).toBe(
      "why-they-left: paused\n",
    );
    const edited = JSON.parse(await readFile(path.join(SAMPLE, "campaign.json"), "utf8"));
    delete edited.paused;
    edited.hashtags = ["#WhyTheyLeft"];
    edited.brand.logo = path.join(SAMPLE, "logo.svg");
    const file = path.join(w.dir, "campaign.json");
    await writeFile(file, JSON.stringify(edited));
    const updated = await bin(["campaigns", "update", file], { env: staff });
    ok(updated);
    expect(updated.out).toBe("why-they-left: updated (paused)\n");
    const shown = JSON.parse((await bin(["campaigns", "show", "why-they-left"], { env: w.env })).out);
    expect(shown).toMatchObject({ paused: true, hashtags: ["#WhyTheyLeft"] });
    const listed = await bin(["campaigns", "list"], { env: w.env });
    expect(listed.out).toMatch(/why-they-left .* paused/);
    const audit = JSON.parse(
      (await bin(["audit", "--entity", "why-they-left", "--json"], { env: w.env })).out,
    ) as { action: string; detail?: string }[];
    expect(audit.find((e) => e.action === "campaign.updated")?.detail).toBe("changed: hashtags");
    expect((await bin(["campaigns", "resume", "why-they-left"], { env: staff })).out).toBe(
      "why-they-left: active\n",
    );
  });

  it("withdrawal, takedowns, redactions and render-preview through the binary", async () => {
    const w = await world("safety");
    const staff = await w.account("staff1", ["staff"]);
    await sampleData(w, staff);
    const preview = path.join(w.dir, "preview.png");
    const rendered = await bin(
      ["render-preview", "--quote", "not-protecting-en", "--format", "square", "--out", preview],
      { env: w.env },
    );
    ok(rendered);
    expect(rendered.out).toMatch(/1080×1080 png, quote at \d+px/);
    expect((await readFile(preview)).subarray(1, 4).toString()).toBe("PNG");

    // A redaction term that the quote holds: preview refuses it, as the worker would.
    ok(await bin(["redactions", "add", "killing them"], { env: staff }));
    const refused = await bin(
      ["render-preview", "--quote", "not-protecting-en", "--format", "square", "--out", preview],
      { env: w.env },
    );
    expect(refused.code).toBe(1);
    expect(refused.err).toContain("not rendered: redaction");

    const unknownCampaign = await bin(
      [
        "render-preview",
        "--quote",
        "not-protecting-en",
        "--format",
        "square",
        "--out",
        preview,
        "--campaign",
        "nope",
      ],
      { env: w.env },
    );
    expect(unknownCampaign.code).toBe(1);
    expect(unknownCampaign.err).toBe("error: campaign nope does not exist\n");

    const withdrawn = await bin(["speakers", "withdraw", "india-defector", "--reason", "asked us"], {
      env: staff,
    });
    ok(withdrawn);
    expect(withdrawn.out).toContain("india-defector: consent withdrawn");
    // Queueing now leaves the withdrawn speaker's quotes out and says so.
    const queued = await bin(["queue", "why-they-left", "--no-wait"], { env: staff });
    ok(queued);
    expect(queued.out).toMatch(/skipped \S+: speaker india-defector withdrew consent/);

    const takedowns = await bin(["bundles", "takedowns", "why-they-left"], { env: w.env });
    ok(takedowns);
    expect(takedowns.out).toBe("(none)\n");
    const acked = await bin(["bundles", "ack-takedown", "why-they-left", "o-none"], { env: staff });
    expect(acked.code).toBe(2);
    expect(acked.err).toBe("error: not pending takedowns of why-they-left: o-none\n");
  });

  it("tokens: a rotated token stops working, a revoked account is told so, reads need no token", async () => {
    const w = await world("tokens");
    const staff = await w.account("staff1", ["staff"]);
    const rotated = await bin(["users", "token", "staff1"], { env: w.env });
    ok(rotated);
    const fresh = /token: (tm_\S+)/.exec(rotated.out)![1]!;
    const stale = await bin(["quotes", "import", path.join(SAMPLE, "quotes.csv")], { env: staff });
    expect(stale.code).toBe(2);
    expect(stale.err).toContain("matches no account");

    const tokenFile = path.join(w.dir, "token");
    await writeFile(tokenFile, `${fresh}\n`);
    ok(
      await bin(["--token-file", tokenFile, "speakers", "import", path.join(SAMPLE, "speakers.csv")], {
        env: w.env,
      }),
    );

    const revoked = await bin(["users", "revoke", "staff1"], { env: w.env });
    ok(revoked);
    const after = await bin(
      ["quotes", "import", path.join(SAMPLE, "quotes.csv"), "--token-file", tokenFile],
      {
        env: w.env,
      },
    );
    expect(after.code).toBe(2);
    expect(after.err).toContain("belongs to staff1, whose account is revoked");
    expect(after.err).not.toContain("users add");

    const staff2 = await w.account("staff2", ["staff"]);
    ok(await bin(["speakers", "import", path.join(SAMPLE, "speakers.csv")], { env: staff2 }));
    ok(await bin(["quotes", "import", path.join(SAMPLE, "quotes.csv")], { env: staff2 }));
    const rejectedQuote = await bin(["quotes", "reject", "not-holy-war-en", "--note", "wrong speaker"], {
      env: staff2,
    });
    ok(rejectedQuote);
    expect(rejectedQuote.out).toBe("not-holy-war-en: rejected by staff2\n");
    ok(await bin(["quotes", "vet", "not-protecting-en"], { env: staff2 }));
    const retired = await bin(["quotes", "retire", "not-protecting-en"], { env: staff2 });
    ok(retired);
    expect(retired.out).toBe("not-protecting-en: retired by staff2\n");

    const none = await bin(["quotes", "vet", "x"], { env: w.env });
    expect(none.code).toBe(2);
    expect(none.err).toContain("set TESTIMONY_TOKEN");
    ok(await bin(["quotes", "list"], { env: w.env }));
  });

  it("usage mistakes get the same exit codes everywhere", async () => {
    const w = await world("mistakes");
    const reviewer = await w.account("rev1", ["reviewer"]);
    const bogus = await bin(["review", "list", "--status", "bogus"], { env: w.env });
    expect(bogus.code).toBe(2);
    expect(bogus.err).toContain("--status must be one of queued, rendering, in_review");
    // An unknown output id is not_found (exit 1) in every command that takes one.
    for (const args of [
      ["review", "approve", "o-nope"],
      ["review", "reject", "o-nope", "--comment", "x"],
    ]) {
      const r = await bin(args, { env: reviewer });
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.err).toContain("output o-nope does not exist");
    }
  });

  it("`start`, `serve` and `schedule` run as real processes and stop on SIGTERM", async () => {
    const w = await world("roles");
    const { freePort } = await import("../support/poll.js");
    const port = await freePort();
    const start = new RoleProcess(["start"], { ...w.env, PORT: String(port), HOST: "127.0.0.1" });
    roles.push(start);
    await start.logged("testimony start is up");
    const health = await until(
      "health",
      async () => {
        const r = await fetch(`http://127.0.0.1:${port}/health`);
        return r.status === 200 ? r.json() : undefined;
      },
      10_000,
    );
    expect(health).toMatchObject({ redis: { ok: true } });
    const schedule = new RoleProcess(["schedule", "--with-export-worker"], w.env);
    roles.push(schedule);
    await schedule.logged("testimony schedule is up");
    expect(await schedule.stop()).toBe(0);
    expect(await start.stop()).toBe(0);
  });
});
