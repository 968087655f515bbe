// The write step reads each record once when the manifest's order (compareIds) is the zip's entry
// order, and twice otherwise (gate and manifest first, then the zip). Both must give the same bundle:
// the zip's entries in name order, the manifest as JSON.stringify(buildManifest(...), null, 2), every
// checksum right, outputs failing the redaction check at export left out.
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { exportSlot } from "../../src/app/export.service.js";
import { buildManifest } from "../../src/export/manifest.js";
import { sha256 } from "../../src/render/files.js";
import { aCampaign, anOutput, aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { testStore } from "../support/redis.js";
import { unzip } from "../support/zip.js";

const log = pino({ level: "silent" });
const SLOT = new Date("2026-11-23T06:00:00Z");
const opened: ReturnType<typeof testStore>[] = [];
afterAll(async () => {
  for (const t of opened) await t.cleanup({ afterWorkers: false });
});

async function drop(name: string, ids: string[]) {
  const t = testStore(name);
  opened.push(t);
  const dataDir = await mkdtemp(path.join(tmpdir(), "tm-data-"));
  const exportDir = await mkdtemp(path.join(tmpdir(), "tm-exports-"));
  const campaign = aCampaign();
  // The term is in the last quote only: that output fails at export (s2 has no term: no check).
  const speakers = [aSpeaker("s1", { redactionTerms: ["Riverside"] }), aSpeaker("s2")];
  const quotes = ids.map((_, i) =>
    aQuote(`q${i}`, i % 2 ? "s2" : "s1", i === ids.length - 1 ? { text: "We met near Riverside" } : {}),
  );
  await saveAll(t.store, { campaigns: [campaign], speakers, quotes });
  const outputs = [];
  for (const [i, q] of quotes.entries())
    outputs.push(
      await anOutput(t.store, dataDir, q, { id: ids[i], approvedAt: `2026-11-0${i + 1}T10:00:00.000Z` }),
    );
  const r = await exportSlot(
    { store: t.store, dataDir, exportDir, log, batch: 2 },
    { campaignId: campaign.id, slot: SLOT, actor: "scheduler" },
  );
  if (r.status !== "written") throw new Error(`drop ${r.status}`);
  const dir = path.join(exportDir, r.bundle.dir);
  const entries = await unzip(path.join(dir, "bundle.zip"));
  const shipped = outputs.slice(0, -1);
  const expected = buildManifest({
    bundleId: r.bundle.id,
    campaign,
    slot: SLOT.toISOString(),
    outputs: shipped.map((o) => ({ output: o, quote: quotes.find((q) => q.id === o.quoteId)! })),
    takedowns: [],
  });
  return { r, dir, entries, shipped, outputs, expected };
}

describe("the write step gives the same bundle in one record pass or two", () => {
  for (const [label, ids] of [
    // Entry order ("<id>." bytewise) and manifest order (localeCompare) agree: one pass.
    ["one pass", ["o-a1", "o-b2", "o-c3", "o-d4", "o-e5"]],
    // They disagree ("B" < "a" bytewise, not by localeCompare): gate and manifest first, then the zip.
    ["two passes", ["o-B", "o-a", "o-C", "o-b", "o-zz"]],
  ] as const) {
    it(`${label}: entries in name order, the manifest as built in memory, checksums right, the redacted output left out`, async () => {
      const d = await drop(`pass-${label.replace(" ", "-")}`, [...ids]);
      expect(d.r.failedAtExport.map((f) => f.outputId)).toEqual([d.outputs.at(-1)!.id]);
      const names = [...d.entries.keys()];
      expect(names).toEqual([...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      expect(names.filter((n) => n.startsWith("cards/")).length).toBe(d.shipped.length);
      // As the streamed manifest writes it: the skeleton's keys (takedowns included), then the outputs.
      const { outputs, ...head } = d.expected;
      expect(d.entries.get("manifest.json")!.toString()).toBe(
        `${JSON.stringify({ ...head, outputs }, null, 2)}\n`,
      );
      for (const o of d.expected.outputs)
        for (const f of o.files) expect(sha256(d.entries.get(f.path)!)).toBe(f.sha256);
      const sidecar = JSON.parse(await readFile(path.join(d.dir, "manifest.json"), "utf8"));
      expect(sidecar.zip.sha256).toBe(sha256(await readFile(path.join(d.dir, "bundle.zip"))));
      expect([...d.r.bundle.outputIds].sort()).toEqual(d.shipped.map((o) => o.id).sort());
    });
  }
});
