import { readdir } from "node:fs/promises";
import path from "node:path";
import type { Bundle } from "../../src/domain/bundle.js";
import { runBuilt } from "./built.js";
import { CAMPAIGN_ID, histogram } from "./fixtures.js";
import type { World } from "./world.js";

/** What a reader of EXPORT_DIR sees: visible folders, hidden (temp) ones, and visible ones that are not whole bundles. */
export async function exportDirState(exportDir: string, campaignId = CAMPAIGN_ID) {
  const dir = path.join(exportDir, campaignId);
  const names = await readdir(dir).catch(() => [] as string[]);
  const visible = names.filter((n) => !n.startsWith("."));
  const hidden = names.filter((n) => n.startsWith(".") && n.endsWith(".tmp"));
  const partial: string[] = [];
  for (const n of visible) {
    const files = await readdir(path.join(dir, n)).catch(() => [] as string[]);
    if (!files.includes("bundle.zip") || !files.includes("manifest.json")) partial.push(n);
  }
  return { dir, visible, hidden, partial };
}

/** The bundle records and how many complete bundles list each output (exactly 1 once shipped). */
export async function ledger(w: World, outputIds: string[]) {
  const bundles = (await w.store.bundles.list()).sort((a, b) => a.slot.localeCompare(b.slot));
  const complete = bundles.filter((b) => b.status === "complete");
  const perOutput = new Map<string, number>();
  for (const b of complete) for (const id of b.outputIds) perOutput.set(id, (perOutput.get(id) ?? 0) + 1);
  const times = outputIds.map((id) => perOutput.get(id) ?? 0);
  const outputs = (await w.store.outputs.getMany(outputIds)).map((v) => v.value);
  return {
    bundles,
    complete,
    /** Complete bundles per output, as a histogram: "1×24" when every output shipped once. */
    perOutput: histogram(times),
    shippedOnce: times.every((n) => n === 1),
    statuses: histogram(outputs.map((o) => o.status)),
    allExported: outputs.every(
      (o) => o.status === "exported" && perOutputOwner(complete, o.id) === o.bundleId,
    ),
    describe: (b: Bundle) => `${b.id} ${b.status} (${b.outputIds.length} outputs)`,
  };
}

const perOutputOwner = (bundles: Bundle[], id: string) => bundles.find((b) => b.outputIds.includes(id))?.id;

/** `testimony bundles verify DIR` (the shipped binary) for each bundle: all must exit 0. */
export async function verifyBundles(w: World, bundles: Bundle[]) {
  const results: { dir: string; code: number | null; said: string }[] = [];
  for (const b of bundles) {
    const dir = path.join(w.exportDir, b.dir);
    const r = await runBuilt(["bundles", "verify", dir], {
      env: w.env({ LOG_LEVEL: "warn" }),
      logFile: path.join(w.logDir, "verify.log"),
      timeoutMs: 20_000,
    });
    results.push({ dir: b.dir, code: r.code, said: `${r.out}${r.err}`.trim().split("\n").at(-1) ?? "" });
  }
  return { ok: results.length > 0 && results.every((r) => r.code === 0), results };
}

/** Waits until the wall clock is past the second of `slot`, so a forced drop (`--now`) lands on another slot. */
export async function nextSecondAfter(slot: Date | string) {
  const end = new Date(slot).getTime() + 1000;
  while (Date.now() < end) await new Promise((r) => setTimeout(r, end - Date.now() + 5));
}
