import { execFile } from "node:child_process";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import type { Quote } from "../src/domain/quote.js";
import type { Drill } from "./support/drill.js";
import { CAMPAIGN_ID, histogram, outputsFor, quote, seed } from "./support/fixtures.js";
import { CLI_MAIN, REPO_ROOT, spawnTsx } from "./support/processes.js";
import type { Report } from "./support/report.js";
import { openWorld, PREFIX, type World } from "./support/world.js";

const run = promisify(execFile);
const CHILD = path.join(import.meta.dirname, "..", "test", "children", "export-child.ts");
const SLOT_1 = new Date("2026-11-23T06:00:00Z");
const SLOT_2 = new Date("2026-11-30T06:00:00Z");

/** What a reader of EXPORT_DIR sees: visible folders, and which of them are not whole bundles. */
async function exportDirState(w: World) {
  const dir = path.join(w.exportDir, CAMPAIGN_ID);
  const names = await readdir(dir).catch(() => [] as string[]);
  const visible = names.filter((n) => !n.startsWith("."));
  const hidden = names.filter((n) => n.startsWith("."));
  const partial: string[] = [];
  for (const n of visible) {
    const files = await readdir(path.join(dir, n)).catch(() => [] as string[]);
    if (!files.includes("bundle.zip") || !files.includes("manifest.json")) partial.push(n);
  }
  return { dir, visible, hidden, partial };
}

async function exportOnce(w: World, slot: Date, crashAt: string, n: number) {
  const c = spawnTsx(
    CHILD,
    [w.redis.url, PREFIX, w.dataDir, w.exportDir, CAMPAIGN_ID, slot.toISOString(), crashAt],
    {
      logFile: path.join(w.logDir, `export-${n}-${crashAt}.log`),
    },
  );
  const exit = await c.exited;
  return { ...exit, stdout: c.stdout().trim() };
}

async function crashAndRerun(
  r: Report,
  w: World,
  slot: Date,
  step: "written" | "renamed",
  ids: string[],
  n: number,
) {
  const crashed = await exportOnce(w, slot, step, n);
  const mid = await exportDirState(w);
  const bundle = (await w.store.bundles.list()).find((b) => b.slot === slot.toISOString());
  const statuses = (await w.store.outputs.getMany(ids)).map((v) => v.value.status);
  r.step(
    `export of ${slot.toISOString()} SIGKILLed after "${step}" (${crashed.signal ?? `exit ${crashed.code}`}): ` +
      `visible [${mid.visible.join(", ")}], hidden ${mid.hidden.length}, bundle ${bundle?.status ?? "none"}, outputs ${histogram(statuses)}`,
  );
  r.check(
    crashed.signal === "SIGKILL",
    `the "${step}" export died by SIGKILL`,
    crashed.signal ?? `exit ${crashed.code}`,
  );
  r.check(
    mid.partial.length === 0,
    `after the "${step}" kill no partial bundle is visible`,
    mid.partial.join(", "),
  );
  r.check(
    statuses.every((s) => s === "approved"),
    `after the "${step}" kill the outputs are still approved (not exported)`,
    histogram(statuses),
  );

  const rerun = await exportOnce(w, slot, "none", n);
  const end = await exportDirState(w);
  r.step(
    `rerun of ${slot.toISOString()}: "${rerun.stdout}", visible [${end.visible.join(", ")}], hidden ${end.hidden.length}`,
  );
  r.check(
    rerun.code === 0 && rerun.stdout === "written",
    `the rerun after "${step}" completes`,
    `exit ${rerun.code}, "${rerun.stdout}"`,
  );
  r.check(
    end.partial.length === 0 && end.hidden.length === 0,
    `after the "${step}" rerun: no partial folder, no temp left`,
    `partial ${end.partial.length}, hidden ${end.hidden.join(", ") || "none"}`,
  );
}

export const exportKill: Drill = {
  name: "4. export SIGKILLed mid-bundle",
  promise:
    "a drop killed before or after its rename shows no partial bundle; the rerun completes; no output is in two bundles",
  async run(r) {
    const w = await openWorld("export-kill");
    try {
      r.step(`redis-server on port ${w.redis.port}, data and exports in ${w.root}`);
      const { quotes } = await seed(w.store, { quotes: 12 });
      const approvedAt = (i: number) => new Date(Date.UTC(2026, 10, 2, 10, i)).toISOString();
      const first = await outputsFor(w.store, w.dataDir, quotes, {
        status: "approved",
        queuedBy: "staff1",
        approvedAt,
      });
      r.step(`${first.length} approved outputs`);
      await crashAndRerun(
        r,
        w,
        SLOT_1,
        "written",
        first.map((o) => o.id),
        1,
      );

      const more: Quote[] = Array.from({ length: 6 }, (_, i) =>
        quote(`q${13 + i}`, `s${(i % 4) + 1}`, 12 + i),
      );
      await w.store.quotes.commit({ writes: more.map((q) => w.store.quotes.write(q)) });
      const second = await outputsFor(w.store, w.dataDir, more, {
        status: "approved",
        queuedBy: "staff1",
        approvedAt,
      });
      r.step(`${second.length} more outputs approved for the next slot`);
      await crashAndRerun(
        r,
        w,
        SLOT_2,
        "renamed",
        second.map((o) => o.id),
        2,
      );

      const again = await exportOnce(w, SLOT_1, "none", 3);
      r.step(`slot ${SLOT_1.toISOString()} run once more: "${again.stdout}"`);
      r.check(
        again.stdout === "already-complete",
        "a third run of the first slot adds nothing",
        again.stdout,
      );

      const all = [...first, ...second].map((o) => o.id);
      const bundles = (await w.store.bundles.list()).sort((a, b) => a.slot.localeCompare(b.slot));
      const outputs = (await w.store.outputs.getMany(all)).map((v) => v.value);
      const membership = new Map<string, string[]>();
      for (const b of bundles)
        for (const id of b.outputIds) membership.set(id, [...(membership.get(id) ?? []), b.id]);
      const inBundles = all.map((id) => membership.get(id)?.length ?? 0);
      const bundleIdMatches = outputs.every((o) => membership.get(o.id)?.[0] === o.bundleId);
      const manifestsMatch: boolean[] = [];
      const verified: { dir: string; code: number; out: string }[] = [];
      for (const b of bundles) {
        const dir = path.join(w.exportDir, b.dir);
        const manifest = JSON.parse(await readFile(path.join(dir, "manifest.json"), "utf8")) as {
          outputs: { id: string }[];
        };
        manifestsMatch.push(
          JSON.stringify(manifest.outputs.map((o) => o.id).sort()) ===
            JSON.stringify([...b.outputIds].sort()),
        );
        const v = await run(process.execPath, ["--import", "tsx", CLI_MAIN, "bundles", "verify", dir], {
          cwd: REPO_ROOT,
        }).then(
          (x) => ({ code: 0, out: x.stdout.trim() }),
          (e: { code?: number; stdout?: string; stderr?: string }) => ({
            code: e.code ?? 1,
            out: `${e.stdout ?? ""}${e.stderr ?? ""}`.trim(),
          }),
        );
        verified.push({ dir: path.relative(w.exportDir, dir), ...v });
      }
      const zipBytes = await Promise.all(
        bundles.map((b) => stat(path.join(w.exportDir, b.dir, "bundle.zip")).then((s) => s.size)),
      );

      r.count(
        "bundles",
        bundles
          .map((b, i) => `${b.id} ${b.status} ${b.outputIds.length} outputs ${zipBytes[i]} B`)
          .join("; "),
      );
      r.count("outputs", histogram(outputs.map((o) => o.status)));
      r.count("bundles per output", histogram(inBundles));
      for (const v of verified) r.count(`bundles verify ${v.dir}`, v.out.split("\n").at(-1) ?? "");

      r.check(
        bundles.length === 2 && bundles.every((b) => b.status === "complete"),
        "two bundles, both complete",
        bundles.map((b) => b.status).join(","),
      );
      r.check(
        inBundles.every((n) => n === 1),
        "every output in exactly one bundle",
        histogram(inBundles),
      );
      r.check(
        outputs.every((o) => o.status === "exported") && bundleIdMatches,
        "every output exported, its bundleId the bundle listing it",
      );
      r.check(manifestsMatch.every(Boolean), "each manifest lists exactly its bundle's outputs");
      r.check(
        verified.every((v) => v.code === 0),
        "`testimony bundles verify` passes for both bundles",
        verified.map((v) => v.code).join(","),
      );
    } finally {
      await w.dispose();
    }
  },
};
