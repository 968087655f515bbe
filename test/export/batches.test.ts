// A drop pages through its outputs: reservation, release and marking exported land a batch at a time.
// These tests kill (or stall) a drop between two batches and check that nothing is stranded or shipped twice.
import { execFile } from "node:child_process";
import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { releaseBundle } from "../../src/app/export/recover.js";
import { type ExportStep, exportSlot, recoverDrops } from "../../src/app/export.service.js";
import { bundleId } from "../../src/domain/bundle.js";
import { AppError } from "../../src/domain/errors.js";
import { createExportLeaseStore } from "../../src/store/export-lease.store.js";
import { aCampaign, anOutput, aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { cli } from "../support/cli.js";
import { until } from "../support/poll.js";
import { REDIS_URL, testStore } from "../support/redis.js";

const run = promisify(execFile);
const log = pino({ level: "silent" });
const CAMPAIGN = "why-they-left";
const S1 = new Date("2026-11-23T06:00:00Z");
const S2 = new Date("2026-11-23T06:00:01Z");
const S3 = new Date("2026-11-23T06:00:02Z");
const N = 5;
const opened: { cleanup(): Promise<void> }[] = [];
afterAll(async () => {
  for (const t of opened) await t.cleanup();
});

async function setup(name: string) {
  const t = testStore(name);
  opened.push(t);
  const dataDir = await mkdtemp(path.join(tmpdir(), "tm-data-"));
  const exportDir = await mkdtemp(path.join(tmpdir(), "tm-exports-"));
  const quotes = Array.from({ length: N }, (_, i) => aQuote(`q${i}`, i % 2 ? "s2" : "s1"));
  await saveAll(t.store, { campaigns: [aCampaign()], speakers: [aSpeaker("s1"), aSpeaker("s2")], quotes });
  const ids: string[] = [];
  for (const [i, q] of quotes.entries()) {
    ids.push((await anOutput(t.store, dataDir, q, { approvedAt: `2026-11-0${i + 1}T10:00:00.000Z` })).id);
  }
  // One output per batch: every step of five outputs has four points between batches.
  const deps = { store: t.store, dataDir, exportDir, log, batch: 1 };
  return { ...t, dataDir, exportDir, deps, ids: ids.sort(), campaignDir: path.join(exportDir, CAMPAIGN) };
}
type Env = Awaited<ReturnType<typeof setup>>;

/** `exportSlot` in a child with one output per batch that SIGKILLs itself at the first `crashAt`. */
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
  return run(process.execPath, ["--import", "tsx", ...args], {
    timeout: 60_000,
    env: { ...process.env, EXPORT_BATCH: "1" },
  }).then(
    () => "exited",
    (e: { signal?: string }) => e.signal,
  );
}

/** Every output exported once, by a complete bundle that lists it and verifies; none left reserved by another. */
async function expectShippedOnce(env: Env) {
  const bundles = await env.store.bundles.list();
  const complete = bundles.filter((b) => b.status === "complete");
  const listed = complete.flatMap((b) => b.outputIds);
  expect([...listed].sort()).toEqual(env.ids);
  const outs = await env.store.outputs.getMany(env.ids);
  for (const { value: o } of outs) {
    expect(o.status).toBe("exported");
    expect(complete.find((b) => b.id === o.bundleId)?.outputIds).toContain(o.id);
  }
  expect(bundles.filter((b) => b.status === "writing")).toEqual([]);
  expect((await readdir(env.campaignDir)).filter((n) => n.startsWith("."))).toEqual([]);
  for (const b of complete) {
    const verify = await cli(env.prefix, ["bundles", "verify", path.join(env.exportDir, b.dir)]);
    expect(verify.code).toBe(0);
  }
}

const reservedBy = async (env: Env, id: string) =>
  (await env.store.outputs.getMany(env.ids)).filter((v) => v.value.bundleId === id).length;

describe("a drop killed between two batches is recovered, never stranded or shipped twice", () => {
  it("killed between reservation batches: the next drop at another second releases what it reserved and ships every output once", async () => {
    const env = await setup("batch-reserve");
    expect(await exportChild(env, S1, "reserve-batch")).toBe("SIGKILL");
    const b1 = bundleId(CAMPAIGN, S1);
    expect((await env.store.bundles.get(b1))!.value).toMatchObject({
      status: "writing",
      outputIds: expect.any(Array),
    });
    expect((await env.store.bundles.get(b1))!.value.outputIds).toHaveLength(N);
    expect(await reservedBy(env, b1)).toBe(1); // half-reserved: one batch of five landed

    const r = await exportSlot(env.deps, { campaignId: CAMPAIGN, slot: S2, actor: "staff1" });
    expect(r.status).toBe("written");
    expect(r.recovered).toEqual([{ bundleId: b1, slot: S1.toISOString(), action: "released", outputs: 1 }]);
    expect((await env.store.bundles.get(b1))!.value).toMatchObject({ status: "released", outputIds: [] });
    await expectShippedOnce(env);
  });

  it("killed between reservation batches: a rerun of the same slot finishes the reservation and ships all", async () => {
    const env = await setup("batch-reserve-rerun");
    expect(await exportChild(env, S1, "reserve-batch")).toBe("SIGKILL");
    const r = await exportSlot(env.deps, { campaignId: CAMPAIGN, slot: S1, actor: "staff1" });
    expect(r.status).toBe("written");
    if (r.status === "written") expect([...r.bundle.outputIds].sort()).toEqual(env.ids);
    await expectShippedOnce(env);
  });

  it("killed between 'mark exported' batches: recoverDrops completes the bundle; nothing is exported twice", async () => {
    const env = await setup("batch-mark");
    expect(await exportChild(env, S1, "mark-batch")).toBe("SIGKILL");
    const b1 = bundleId(CAMPAIGN, S1);
    const states = (await env.store.outputs.getMany(env.ids)).map((v) => v.value.status);
    expect(states.filter((s) => s === "exported")).toHaveLength(1); // half-marked
    expect((await env.store.bundles.get(b1))!.value.status).toBe("writing");

    const recovered = await recoverDrops(env.deps, "export-worker");
    expect(recovered).toEqual([{ bundleId: b1, slot: S1.toISOString(), action: "completed", outputs: N }]);
    const audit = await env.store.audit.list({ entity: b1 });
    expect(audit.map((a) => a.action)).toEqual(["bundle.reserved", "bundle.complete"]);
    await expectShippedOnce(env);
    // A later drop finds nothing left.
    expect((await exportSlot(env.deps, { campaignId: CAMPAIGN, slot: S2, actor: "staff1" })).status).toBe(
      "empty",
    );
  });

  it("a release killed between its batches is finished by the next drop", async () => {
    const env = await setup("batch-release");
    expect(await exportChild(env, S1, "written")).toBe("SIGKILL");
    // The drop at S2 releases S1's bundle one output per batch and dies after the first.
    expect(await exportChild(env, S2, "release-batch")).toBe("SIGKILL");
    const b1 = bundleId(CAMPAIGN, S1);
    expect((await env.store.bundles.get(b1))!.value.status).toBe("writing");
    expect(await reservedBy(env, b1)).toBe(N - 1);

    const r = await exportSlot(env.deps, { campaignId: CAMPAIGN, slot: S3, actor: "staff1" });
    expect(r.status).toBe("written");
    expect(r.recovered).toEqual([
      { bundleId: b1, slot: S1.toISOString(), action: "released", outputs: N - 1 },
    ]);
    await expectShippedOnce(env);
  });

  it("a drop that stalls mid-reservation while another releases its bundle lands no further batch", async () => {
    const env = await setup("batch-stalled");
    const b1 = bundleId(CAMPAIGN, S1);
    let released = 0;
    const afterStep = async (step: ExportStep) => {
      // Its lease ran out while it stalled here: another drop released its bundle.
      if (step === "reserve-batch" && !released)
        released = await releaseBundle(env.store, b1, "other-drop", "its drop stalled", { batch: 1 });
    };
    const err = await exportSlot(
      { ...env.deps, afterStep },
      { campaignId: CAMPAIGN, slot: S1, actor: "staff1" },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe("invalid_state");
    expect((err as AppError).message).toMatch(/changed by another drop while this one was reserving/);
    expect(released).toBe(1);
    expect(await reservedBy(env, b1)).toBe(0);
    expect((await env.store.bundles.get(b1))!.value.status).toBe("released");
    // Nothing stranded: the next drop ships all five.
    const r = await exportSlot(env.deps, { campaignId: CAMPAIGN, slot: S2, actor: "staff1" });
    expect(r.status).toBe("written");
    await expectShippedOnce(env);
  });

  it("the lease is renewed while the outputs are reserved, so a long reservation keeps its bundle", async () => {
    const env = await setup("batch-lease");
    const b1 = bundleId(CAMPAIGN, S1);
    const leases = createExportLeaseStore(env.store.redis, env.store.keys);
    const leaseMs = 600;
    let waited = false;
    const afterStep = async (step: ExportStep) => {
      if (step !== "reserve-batch" || waited) return;
      waited = true;
      // Reserving takes longer than the lease lives: it must be renewed meanwhile, not run out.
      // A renewal is the only way its TTL goes up: wait for a reading above the lowest one so far
      // (not above the first: read just as a renewal landed, the first is already the full TTL).
      let lowest = await leases.ttlMs(b1);
      expect(lowest).toBeGreaterThan(0);
      await until(
        "the lease renewed during the reservation",
        async () => {
          const ttl = await leases.ttlMs(b1);
          if (ttl <= 0) throw new Error(`the lease ran out (PTTL ${ttl})`);
          if (ttl > lowest) return true;
          lowest = Math.min(lowest, ttl);
          return false;
        },
        5_000,
      );
    };
    const r = await exportSlot(
      { ...env.deps, leaseMs, afterStep },
      { campaignId: CAMPAIGN, slot: S1, actor: "staff1" },
    );
    expect(r.status).toBe("written");
    await expectShippedOnce(env);
  });
});
