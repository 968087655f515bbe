import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { exportSlot, recoverDrops } from "../../src/app/export.service.js";
import { addRedaction } from "../../src/app/safety.service.js";
import { exportReportLines } from "../../src/cli/export-report.js";
import { bundleId } from "../../src/domain/bundle.js";
import { createExportLeaseStore } from "../../src/store/export-lease.store.js";
import { aCampaign, anOutput, aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { cli } from "../support/cli.js";
import { until } from "../support/poll.js";
import { REDIS_URL, testStore } from "../support/redis.js";

const run = promisify(execFile);
const log = pino({ level: "silent" });
const CAMPAIGN = "why-they-left";
const S1 = new Date("2026-11-23T06:00:00Z");
const S2 = new Date("2026-11-23T06:00:01Z"); // a forced drop one second later: another slot
const S3 = new Date("2026-11-23T06:00:02Z");
const opened: { cleanup(): Promise<void> }[] = [];
afterAll(async () => {
  for (const t of opened) await t.cleanup();
});

async function setup(name: string, campaign = aCampaign()) {
  const t = testStore(name);
  opened.push(t);
  const dataDir = await mkdtemp(path.join(tmpdir(), "tm-data-"));
  const exportDir = await mkdtemp(path.join(tmpdir(), "tm-exports-"));
  const quotes = [aQuote("q1", "s1"), aQuote("q2", "s2"), aQuote("q3", "s1")];
  await saveAll(t.store, { campaigns: [campaign], speakers: [aSpeaker("s1"), aSpeaker("s2")], quotes });
  const outputs = [
    await anOutput(t.store, dataDir, quotes[0]!, { approvedAt: "2026-11-02T10:00:00.000Z" }),
    await anOutput(t.store, dataDir, quotes[1]!, { approvedAt: "2026-11-01T10:00:00.000Z" }),
  ];
  const deps = { store: t.store, dataDir, exportDir, log };
  const approvedIds = outputs.map((o) => o.id).sort();
  return {
    ...t,
    dataDir,
    exportDir,
    outputs,
    approvedIds,
    deps,
    campaignDir: path.join(exportDir, CAMPAIGN),
  };
}
type Env = Awaited<ReturnType<typeof setup>>;

/** The promise of every test here: each approved output exported exactly once, in a complete bundle that verifies. */
async function expectShippedOnce(env: Env, slot: Date) {
  const bundles = await env.store.bundles.list();
  const complete = bundles.filter((b) => b.status === "complete");
  const everyId = complete.flatMap((b) => b.outputIds);
  expect(everyId.sort()).toEqual(env.approvedIds);
  expect(new Set(everyId).size).toBe(everyId.length);
  const outs = await env.store.outputs.list();
  expect(outs.map((o) => o.status)).toEqual(["exported", "exported"]);
  const names = await readdir(env.campaignDir);
  expect(names.filter((n) => n.startsWith("."))).toEqual([]);
  const folder = (await env.store.bundles.get(bundleId(CAMPAIGN, slot)))!.value.dir;
  const verify = await cli(env.prefix, ["bundles", "verify", path.join(env.exportDir, folder)]);
  expect(verify.err).toBe("");
  expect(verify.code).toBe(0);
}

function exportChild(env: Env, slot: Date, crashAt: string) {
  const child = path.join(import.meta.dirname, "..", "children", "export-child.ts");
  const args = [
    child,
    REDIS_URL,
    env.prefix,
    env.dataDir,
    env.exportDir,
    CAMPAIGN,
    slot.toISOString(),
    crashAt,
  ];
  return run(process.execPath, ["--import", "tsx", ...args], { timeout: 60_000 }).then(
    () => "exited",
    (e: { signal?: string }) => e.signal,
  );
}

describe("a failed or killed drop never strands its outputs", () => {
  it("export onto an unwritable export folder fails; once it is fixed, a forced drop at another second ships the outputs", async () => {
    const env = await setup("recover-fs");
    // A real filesystem fault: a file stands where the campaign's export folder must be created.
    await mkdir(env.exportDir, { recursive: true });
    await writeFile(env.campaignDir, "not a folder");
    await expect(exportSlot(env.deps, { campaignId: CAMPAIGN, slot: S1, actor: "staff1" })).rejects.toThrow(
      /EEXIST|ENOTDIR/,
    );
    expect((await env.store.bundles.get(bundleId(CAMPAIGN, S1)))!.value.status).toBe("writing");

    await rm(env.campaignDir); // space freed, as it were
    const r = await exportSlot(env.deps, { campaignId: CAMPAIGN, slot: S2, actor: "staff1" });
    expect(r.status).toBe("written");
    expect(r.recovered).toEqual([
      { bundleId: bundleId(CAMPAIGN, S1), slot: S1.toISOString(), action: "released", outputs: 2 },
    ]);
    expect((await env.store.bundles.get(bundleId(CAMPAIGN, S1)))!.value).toMatchObject({
      status: "released",
      outputIds: [],
    });
    const audit = await env.store.audit.list({ entity: bundleId(CAMPAIGN, S1) });
    expect(audit.map((a) => a.action)).toEqual(["bundle.reserved", "bundle.released"]);
    await expectShippedOnce(env, S2);
  });

  it("export SIGKILLed with its zip written but not renamed: a forced drop at another second removes the temp folder and ships the outputs", async () => {
    const env = await setup("recover-kill");
    expect(await exportChild(env, S1, "written")).toBe("SIGKILL");
    expect((await readdir(env.campaignDir)).filter((n) => n.startsWith(".")).length).toBe(1);

    const r = await exportSlot(env.deps, { campaignId: CAMPAIGN, slot: S2, actor: "staff1" });
    expect(r.status).toBe("written");
    expect(exportReportLines(r)).toEqual([
      `recovered ${bundleId(CAMPAIGN, S1)}: released, 2 outputs eligible again (unfinished drop of ${S1.toISOString()})`,
    ]);
    const shipped = (await env.store.bundles.list()).find((b) => b.status === "complete")!;
    await expectShippedOnce(env, new Date(shipped.slot));
  });

  it("export SIGKILLed after the rename: the next drop completes that bundle instead of shipping its outputs again", async () => {
    const env = await setup("recover-renamed");
    expect(await exportChild(env, S1, "renamed")).toBe("SIGKILL");
    const r = await exportSlot(env.deps, { campaignId: CAMPAIGN, slot: S2, actor: "scheduler" });
    expect(r.status).toBe("empty");
    expect(r.recovered).toEqual([
      { bundleId: bundleId(CAMPAIGN, S1), slot: S1.toISOString(), action: "completed", outputs: 2 },
    ]);
    await expectShippedOnce(env, S1);
  });

  it("a live exporter's bundle is left alone; once its lease runs out, the next drop releases and ships it", async () => {
    const env = await setup("recover-live");
    expect(await exportChild(env, S1, "reserved")).toBe("SIGKILL");
    // Another machine's exporter holds the bundle now (it took over the dead one's lease) for 1.5 s.
    const leases = createExportLeaseStore(env.store.redis, env.store.keys);
    const dead = (await leases.holder(bundleId(CAMPAIGN, S1)))!;
    expect(await leases.acquire(bundleId(CAMPAIGN, S1), "elsewhere/4242/beef", 1500, dead)).toBe("ok");

    const r2 = await exportSlot(env.deps, { campaignId: CAMPAIGN, slot: S2, actor: "scheduler" });
    expect(r2.status).toBe("empty");
    expect(r2.recovered).toEqual([
      {
        bundleId: bundleId(CAMPAIGN, S1),
        slot: S1.toISOString(),
        action: "left",
        outputs: 2,
        owner: "elsewhere/4242/beef",
      },
    ]);
    await until(
      "the other exporter's lease to run out",
      async () => !(await leases.holder(bundleId(CAMPAIGN, S1))),
      5000,
    );
    const r3 = await exportSlot(env.deps, { campaignId: CAMPAIGN, slot: S3, actor: "scheduler" });
    expect(r3.status).toBe("written");
    expect(r3.recovered.map((x) => x.action)).toEqual(["released"]);
    await expectShippedOnce(env, S3);
  });

  it("a drop whose every output fails the redaction check at export writes nothing and says which and why", async () => {
    const env = await setup("recover-gate", aCampaign({ exposure: { maxPerSpeakerPerDrop: 1 } }));
    // A third approved output of s1 is held back by the cap of one per speaker.
    await anOutput(env.store, env.dataDir, aQuote("q3", "s1"), { approvedAt: "2026-11-03T10:00:00.000Z" });
    const t1 = await addRedaction(env.store, "Pseudonym", "admin1");
    const r = await exportSlot(env.deps, { campaignId: CAMPAIGN, slot: S1, actor: "staff1" });
    expect(r.status).toBe("empty");
    expect(exportReportLines(r)).toEqual([
      // In the drop's order: oldest approval first (q2 was approved before q1).
      ...[env.outputs[1]!, env.outputs[0]!].map(
        (o) => `failed at export: ${o.id}: redaction (term ${t1.id})`,
      ),
      "held back by the exposure cap: s1 1",
    ]);
    expect(await readdir(env.campaignDir).catch(() => [])).toEqual([]);
    const bundles = await env.store.bundles.list();
    expect(bundles.map((b) => b.status)).toEqual(["released"]);
    const statuses = (await env.store.outputs.getMany(env.approvedIds)).map((v) => [
      v.value.status,
      v.value.bundleId,
    ]);
    expect(statuses).toEqual([
      ["failed", undefined],
      ["failed", undefined],
    ]);
  });
});

describe("recovery at start-up", () => {
  it("releases what a killed drop left and removes its hidden temp folder, before any drop runs", async () => {
    const env = await setup("recover-start");
    expect(await exportChild(env, S1, "written")).toBe("SIGKILL");
    const recovered = await recoverDrops(env.deps);
    expect(recovered.map((r) => [r.bundleId, r.action, r.outputs])).toEqual([
      [bundleId(CAMPAIGN, S1), "released", 2],
    ]);
    expect(await readdir(env.campaignDir)).toEqual([]);
    expect((await env.store.outputs.list()).map((o) => [o.status, o.bundleId])).toEqual([
      ["approved", undefined],
      ["approved", undefined],
    ]);
  });
});
