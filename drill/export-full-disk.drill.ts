import path from "node:path";
import { addUser } from "../src/app/users.service.js";
import { ensureBuilt, runBuilt, said } from "./support/built.js";
import { exportDirState, ledger, nextSecondAfter, verifyBundles } from "./support/bundles.js";
import type { Drill } from "./support/drill.js";
import { auditCounts, CAMPAIGN_ID, histogram, outputsFor, seed } from "./support/fixtures.js";
import { FullDisk } from "./support/full-disk.js";
import { openWorld } from "./support/world.js";

const QUOTES = 24;
const TMPFS_BYTES = 1024 * 1024;

export const exportFullDisk: Drill = {
  name: "6. export onto a full disk, then freed",
  promise:
    "a drop onto a full EXPORT_DIR fails with ENOSPC and shows no partial bundle; once space is freed the next forced drop, at another second, ships every approved output, none twice",
  usesBuild: true,
  async run(r) {
    r.step(await ensureBuilt());
    const w = await openWorld("export-full-disk");
    const disk = await FullDisk.mount(w.exportDir, TMPFS_BYTES);
    try {
      r.step(`redis-server on port ${w.redis.port}; EXPORT_DIR: ${disk.why}`);
      const { quotes } = await seed(w.store, { quotes: QUOTES });
      const outputs = await outputsFor(w.store, w.dataDir, quotes, {
        status: "approved",
        queuedBy: "staff1",
        approvedAt: (i) => new Date(Date.UTC(2026, 10, 2, 10, i)).toISOString(),
      });
      const ids = outputs.map((o) => o.id);
      const { token } = await addUser(w.store, "staff1", ["staff"], "drill");
      const env = w.env({ TESTIMONY_TOKEN: token, LOG_LEVEL: "warn" });
      const filler = await disk.fill();
      r.step(
        `${ids.length} approved outputs; EXPORT_DIR filled (${Math.round(filler / 1024)} KiB filler, ${await disk.freeBytes()} B free)`,
      );

      const failed = await runBuilt(["export", CAMPAIGN_ID, "--now"], {
        env,
        logFile: path.join(w.logDir, "export-1.log"),
      });
      const full = await exportDirState(w.exportDir);
      const afterFail = await ledger(w, ids);
      const stuck = afterFail.bundles[0];
      r.step(
        `export --now onto the full disk: ${said(failed)}; visible [${full.visible.join(", ")}], temp ${full.hidden.length}, ` +
          `bundles: ${afterFail.bundles.map(afterFail.describe).join("; ") || "none"}; outputs ${afterFail.statuses}`,
      );
      r.check(
        failed.code === 1 && failed.err.includes(disk.expectedError),
        `the drop exits 1 naming ${disk.expectedError}`,
        said(failed),
      );
      r.check(
        full.partial.length === 0,
        "no partial bundle is visible after the failure",
        full.partial.join(", "),
      );
      r.check(
        afterFail.complete.length === 0 && afterFail.statuses === `approved×${ids.length}`,
        "nothing shipped: no complete bundle, every output still approved",
        `${afterFail.complete.length} complete; ${afterFail.statuses}`,
      );

      await disk.free();
      if (stuck) await nextSecondAfter(stuck.slot);
      r.step(`space freed (${Math.round((await disk.freeBytes()) / 1024)} KiB free)`);

      const again = await runBuilt(["export", CAMPAIGN_ID, "--now"], {
        env,
        logFile: path.join(w.logDir, "export-2.log"),
      });
      const end = await exportDirState(w.exportDir);
      const done = await ledger(w, ids);
      const shipped = done.complete[0];
      r.step(
        `export --now at another second: ${said(again)}; visible [${end.visible.join(", ")}], temp ${end.hidden.length}`,
      );
      const verified = await verifyBundles(w, done.complete);
      const released = await auditCounts(w.store, "bundle.released");

      r.count(
        "first drop",
        `exit ${failed.code} in ${failed.ms} ms: ${failed.err.trim().split("\n").at(-1)}`,
      );
      r.count(
        "left by the failure",
        afterFail.bundles.map(afterFail.describe).join("; ") || "no bundle record",
      );
      r.count("second drop said", again.out.trim().replace(/\n/g, " | "));
      r.count("bundles at the end", done.bundles.map(done.describe).join("; "));
      r.count("complete bundles per output", done.perOutput);
      r.count("outputs", done.statuses);
      r.count("bundle.released audit entries", histogram([...released.values()]));
      for (const v of verified.results) r.count(`bundles verify ${v.dir}`, v.said);

      r.check(
        again.code === 0 && shipped !== undefined && shipped.slot !== stuck?.slot,
        "the next forced drop, at another second, writes a bundle",
        said(again),
      );
      r.check(
        stuck === undefined || (/recovered .*released/.test(again.out) && released.get(stuck.id) === 1),
        "it says it released the failed drop's reservation, in its output and the audit",
        `${again.out.trim().split("\n")[0]}; bundle.released ${stuck ? (released.get(stuck.id) ?? 0) : "-"}`,
      );
      r.check(
        done.shippedOnce && done.allExported,
        `every approved output shipped exactly once (${ids.length})`,
        `${done.perOutput}; ${done.statuses}`,
      );
      r.check(
        done.bundles.every((b) => b.status !== "writing"),
        "no bundle left `writing`",
        done.bundles.map((b) => b.status).join(","),
      );
      r.check(
        end.partial.length === 0 && end.hidden.length === 0,
        "no partial or temp folder left",
        `partial ${end.partial.join(", ") || "none"}, temp ${end.hidden.join(", ") || "none"}`,
      );
      r.check(
        verified.ok,
        "`testimony bundles verify` passes",
        verified.results.map((v) => v.said).join("; "),
      );
    } finally {
      await disk.dispose();
      await w.dispose();
    }
  },
};
