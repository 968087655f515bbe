import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { pino } from "pino";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { exportSlot } from "../../src/app/export.service.js";
import { sha256 } from "../../src/render/files.js";
import { aCampaign, anOutput, aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { cli } from "../support/cli.js";
import { REDIS_URL, testStore } from "../support/redis.js";
import { unzip } from "../support/zip.js";

const run = promisify(execFile);
const log = pino({ level: "silent" });
const SLOT = new Date("2026-11-23T06:00:00Z");
const opened: { cleanup(): Promise<void> }[] = [];
afterAll(async () => {
  for (const t of opened) await t.cleanup();
});

async function setup(name: string) {
  const t = testStore(name);
  opened.push(t);
  const dataDir = await mkdtemp(path.join(tmpdir(), "tm-data-"));
  const exportDir = await mkdtemp(path.join(tmpdir(), "tm-exports-"));
  const speakers = [aSpeaker("s1"), aSpeaker("s2")];
  const quotes = [
    aQuote("q1", "s1"),
    aQuote("q2", "s2", { locale: "ar", text: "هذه ليست حربًا مقدسة" }),
    aQuote("q3", "s1"),
  ];
  await saveAll(t.store, { campaigns: [aCampaign()], speakers, quotes });
  const outputs = [
    await anOutput(t.store, dataDir, quotes[0]!, { approvedAt: "2026-11-02T10:00:00.000Z" }),
    await anOutput(t.store, dataDir, quotes[1]!, { approvedAt: "2026-11-01T10:00:00.000Z" }),
    await anOutput(t.store, dataDir, quotes[2]!, { status: "in_review" }),
  ];
  const deps = { store: t.store, dataDir, exportDir, log };
  return { ...t, dataDir, exportDir, outputs, deps };
}

describe("export", () => {
  let env: Awaited<ReturnType<typeof setup>>;
  beforeEach(async () => {
    env = await setup("export");
  });

  it("writes a bundle whose zip entries, manifest and checksums match the rendered files", async () => {
    const r = await exportSlot(env.deps, { campaignId: "why-they-left", slot: SLOT, actor: "scheduler" });
    expect(r.status).toBe("written");
    const dir = path.join(env.exportDir, "why-they-left", "2026-11-23T06-00-00Z");
    expect((await readdir(dir)).sort()).toEqual(["bundle.zip", "manifest.json"]);
    const entries = await unzip(path.join(dir, "bundle.zip"));
    const [a, b] = [env.outputs[0]!, env.outputs[1]!];
    expect([...entries.keys()]).toEqual(
      [
        `cards/${b.id}.png`,
        `cards/${a.id}.png`,
        "manifest.json",
        `text/${b.id}.alt_text.txt`,
        `text/${b.id}.post.txt`,
        `text/${a.id}.alt_text.txt`,
        `text/${a.id}.post.txt`,
      ].sort(),
    );
    for (const o of [a, b]) {
      expect(entries.get(`cards/${o.id}.png`)).toEqual(await readFile(path.join(env.dataDir, o.files!.card)));
      expect(entries.get(`text/${o.id}.post.txt`)?.toString()).toBe(o.variants!.post);
    }
    const manifest = JSON.parse(entries.get("manifest.json")!.toString());
    expect(manifest).toMatchObject({
      schema: "testimony.bundle/1",
      campaign: { id: "why-they-left" },
      slot: SLOT.toISOString(),
      takedowns: [],
    });
    expect(manifest.outputs.map((o: { id: string }) => o.id)).toEqual([a.id, b.id].sort());
    const m = manifest.outputs.find((o: { id: string }) => o.id === b.id);
    expect(m).toMatchObject({
      format: "square",
      locale: "ar",
      direction: "rtl",
      narrative: "corruption",
      approvedBy: "reviewer1",
      attribution: "Pseudonym s2",
      altText: b.variants!.alt_text,
    });
    expect(m.source).toMatchObject({ publisher: "ICSR", publishedAt: "2015-09-21" });
    for (const f of m.files) expect(sha256(entries.get(f.path)!)).toBe(f.sha256);
    const sidecar = JSON.parse(await readFile(path.join(dir, "manifest.json"), "utf8"));
    expect(sidecar.zip.sha256).toBe(sha256(await readFile(path.join(dir, "bundle.zip"))));
    expect(typeof sidecar.generatedAt).toBe("string");

    const states = (await env.store.outputs.getMany(env.outputs.map((o) => o.id))).map((v) => v.value.status);
    expect(states).toEqual(["exported", "exported", "in_review"]);
    const third = (await env.store.outputs.get(env.outputs[2]!.id))!.value;
    expect(third.missedDrops).toEqual([SLOT.toISOString()]);

    // A second run of the same slot adds nothing.
    expect((await exportSlot(env.deps, { campaignId: "why-they-left", slot: SLOT, actor: "x" })).status).toBe(
      "already-complete",
    );
    // The next slot has nothing approved: no bundle, an audit entry.
    const next = new Date("2026-11-30T06:00:00Z");
    expect(
      (await exportSlot(env.deps, { campaignId: "why-they-left", slot: next, actor: "scheduler" })).status,
    ).toBe("empty");
    expect(await readdir(path.join(env.exportDir, "why-they-left"))).toEqual(["2026-11-23T06-00-00Z"]);
    const audit = await env.store.audit.list({ entity: "why-they-left" });
    expect(audit.at(-1)).toMatchObject({ action: "bundle.nothing_to_drop", detail: next.toISOString() });
  });

  it("bundles verify passes an intact bundle and catches one changed byte", async () => {
    await exportSlot(env.deps, { campaignId: "why-they-left", slot: SLOT, actor: "scheduler" });
    const dir = path.join(env.exportDir, "why-they-left", "2026-11-23T06-00-00Z");
    const ok = await cli(env.prefix, ["bundles", "verify", dir]);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain("ok, 7 entries match the manifest");
    const zipFile = path.join(dir, "bundle.zip");
    const bytes = await readFile(zipFile);
    const cardName = Buffer.from(`cards/${env.outputs[1]!.id}.png`);
    // Flip a byte inside the stored (uncompressed) card data, just past its local header and name.
    const at = bytes.indexOf(cardName) + cardName.length + 40;
    bytes[at] = bytes[at]! ^ 0xff;
    await writeFile(zipFile, bytes);
    const bad = await cli(env.prefix, ["bundles", "verify", dir]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/sha256 [0-9a-f]{64} does not match/);
  });

  it("gives identical zip bytes for the same outputs, whatever the machine's time zone", async () => {
    const other = await setup("export-twin");
    const zipOf = async (e: typeof env, tz: string) => {
      const before = process.env.TZ;
      process.env.TZ = tz;
      try {
        await exportSlot(e.deps, { campaignId: "why-they-left", slot: SLOT, actor: "scheduler" });
      } finally {
        process.env.TZ = before;
      }
      return readFile(path.join(e.exportDir, "why-they-left", "2026-11-23T06-00-00Z", "bundle.zip"));
    };
    // Same outputs: give the twin the very same ids and files.
    const a = await zipOf(env, "UTC");
    const b = await zipOf(other, "Pacific/Kiritimati");
    expect(b.equals(a)).toBe(true);
  });
});

describe("export crash safety (child process, SIGKILL)", () => {
  for (const step of ["reserved", "written", "renamed"] as const) {
    it(`killed right after "${step}": nothing partial is visible, the rerun finishes, no output is in two bundles`, async () => {
      const env = await setup(`crash-${step}`);
      const child = path.join(import.meta.dirname, "..", "children", "export-child.ts");
      const args = [
        child,
        REDIS_URL,
        env.prefix,
        env.dataDir,
        env.exportDir,
        "why-they-left",
        SLOT.toISOString(),
        step,
      ];
      const killed = await run(process.execPath, ["--import", "tsx", ...args]).then(
        () => "exited",
        (e: { signal?: string }) => e.signal,
      );
      expect(killed).toBe("SIGKILL");
      const campaignDir = path.join(env.exportDir, "why-they-left");
      const visible = (await readdir(campaignDir).catch(() => [] as string[])).filter(
        (n) => !n.startsWith("."),
      );
      expect(visible).toEqual(step === "renamed" ? ["2026-11-23T06-00-00Z"] : []);
      const statuses = (await env.store.outputs.getMany(env.outputs.map((o) => o.id))).map(
        (v) => v.value.status,
      );
      expect(statuses).toEqual(["approved", "approved", "in_review"]);

      const rerun = await run(process.execPath, ["--import", "tsx", ...args.slice(0, -1), "none"]);
      expect(rerun.stdout.trim()).toBe("written");
      expect((await readdir(campaignDir)).filter((n) => !n.startsWith("."))).toEqual([
        "2026-11-23T06-00-00Z",
      ]);
      expect((await readdir(campaignDir)).filter((n) => n.startsWith("."))).toEqual([]);
      const bundles = await env.store.bundles.list();
      expect(bundles).toHaveLength(1);
      expect(bundles[0]!.status).toBe("complete");
      expect(new Set(bundles[0]!.outputIds)).toEqual(new Set([env.outputs[0]!.id, env.outputs[1]!.id]));
      const after = (await env.store.outputs.getMany(env.outputs.map((o) => o.id))).map((v) => v.value);
      expect(after.map((o) => o.status)).toEqual(["exported", "exported", "in_review"]);
      expect(after.slice(0, 2).every((o) => o.bundleId === bundles[0]!.id)).toBe(true);
      const verify = await cli(env.prefix, [
        "bundles",
        "verify",
        path.join(campaignDir, "2026-11-23T06-00-00Z"),
      ]);
      expect(verify.code).toBe(0);
    });
  }
});
