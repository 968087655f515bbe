import { createHash } from "node:crypto";
import { watch } from "node:fs";
import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { addUser } from "../src/app/users.service.js";
import type { Output } from "../src/domain/output.js";
import { ensureBuilt, runBuilt, said, spawnBuilt } from "./support/built.js";
import { exportDirState, ledger, nextSecondAfter, verifyBundles } from "./support/bundles.js";
import type { Drill } from "./support/drill.js";
import { auditCounts, CAMPAIGN_ID, outputsFor, seed } from "./support/fixtures.js";
import { sleep } from "./support/processes.js";
import { openWorld, type World } from "./support/world.js";

const QUOTES = 40;
/** Cards this big make a zip of ~20 MiB: written in 1 MiB batches, long enough to be caught in the middle. */
const CARD_SIDE = 420;

/** Gives every output a big card (random noise: PNG cannot shrink it), with its sha256 updated. */
async function bigCards(w: World, outputs: Output[]) {
  const png = await sharp({
    create: {
      width: CARD_SIDE,
      height: CARD_SIDE,
      channels: 3,
      background: "#000",
      noise: { type: "gaussian", mean: 128, sigma: 60 },
    },
  })
    .png()
    .toBuffer();
  const sum = createHash("sha256").update(png).digest("hex");
  for (const o of outputs) {
    await writeFile(path.join(w.dataDir, o.files!.card), png);
    const cur = (await w.store.outputs.get(o.id))!;
    await w.store.outputs.commit({
      writes: [
        w.store.outputs.write({ ...cur.value, sha256: { ...cur.value.sha256, [o.files!.card]: sum } }, cur),
      ],
    });
  }
  return png.length;
}

export const exportKillNextSlot: Drill = {
  name: "7. export SIGKILLed mid-write, then a forced drop at another second",
  promise:
    "a drop killed while writing its bundle strands nothing: the next forced drop, at another second, releases it, removes its temp folder and ships every output once",
  usesBuild: true,
  async run(r) {
    r.step(await ensureBuilt());
    const w = await openWorld("export-kill-next");
    try {
      r.step(`redis-server on port ${w.redis.port}, exports in ${w.exportDir}`);
      const { quotes } = await seed(w.store, { quotes: QUOTES });
      const outputs = await outputsFor(w.store, w.dataDir, quotes, {
        status: "approved",
        queuedBy: "staff1",
        approvedAt: (i) => new Date(Date.UTC(2026, 10, 2, 10, i % 60)).toISOString(),
      });
      const ids = outputs.map((o) => o.id);
      const { token } = await addUser(w.store, "staff1", ["staff"], "drill");
      const env = w.env({ TESTIMONY_TOKEN: token, LOG_LEVEL: "warn" });
      const campaignDir = path.join(w.exportDir, CAMPAIGN_ID);
      await mkdir(campaignDir, { recursive: true });
      const cardBytes = await bigCards(w, outputs);
      r.step(`${ids.length} approved outputs, each with a ${Math.round(cardBytes / 1024)} KiB card`);

      // The moment the drop makes its hidden temp folder, freeze it (SIGSTOP) to look, then SIGKILL it.
      const exporter = spawnBuilt(["export", CAMPAIGN_ID, "--now"], {
        env,
        logFile: path.join(w.logDir, "export-killed.log"),
      });
      let caught: string | undefined;
      const watcher = watch(campaignDir, (_event, name) => {
        if (!caught && name && /^\..+\.tmp$/.test(String(name))) {
          exporter.child.kill("SIGSTOP");
          caught = String(name);
        }
      });
      let ended = false;
      void exporter.exited.then(() => {
        ended = true;
      });
      while (!caught && !ended) await sleep(2);
      const raced = caught ? "stopped" : "exited";
      watcher.close();
      // Step it on a few milliseconds at a time until its zip is partly written, then kill it there.
      const temp = caught ? path.join(campaignDir, caught) : undefined;
      const holding = async () =>
        temp
          ? readdir(temp).then(
              (names) =>
                Promise.all(names.map(async (n) => ({ n, size: (await stat(path.join(temp, n))).size }))),
              () => undefined,
            )
          : undefined;
      let inTemp = await holding();
      for (let i = 0; temp && i < 200; i++) {
        await sleep(20); // a SIGSTOP lands at once, but let the kernel settle before looking
        inTemp = await holding();
        const zip = inTemp?.find((f) => f.n === "bundle.zip");
        if (!inTemp || (zip && zip.size > 0) || inTemp.some((f) => f.n === "manifest.json")) break;
        exporter.child.kill("SIGCONT");
        await sleep(2);
        exporter.child.kill("SIGSTOP");
      }
      const landed = inTemp ? inTemp.map((f) => `${f.n} ${f.size} B`) : ["(temp folder gone)"];
      exporter.child.kill("SIGKILL");
      exporter.child.kill("SIGCONT");
      const killed = await exporter.exited;
      const mid = await exportDirState(w.exportDir);
      const afterKill = await ledger(w, ids);
      const stuck = afterKill.bundles.find((b) => b.status === "writing");
      r.step(
        raced === "stopped"
          ? `export --now frozen as it made ${caught} and stepped it on until it held ${landed.join(", ") || "nothing"}, then SIGKILLed (${killed.signal})`
          : `export --now finished before it could be caught (exit ${killed.code})`,
      );
      r.step(
        `after the kill: visible [${mid.visible.join(", ")}], temp [${mid.hidden.join(", ")}], ` +
          `bundles ${afterKill.bundles.map(afterKill.describe).join("; ") || "none"}, outputs ${afterKill.statuses}`,
      );
      r.check(
        raced === "stopped" &&
          killed.signal === "SIGKILL" &&
          inTemp?.some((f) => f.n === "bundle.zip") === true &&
          !inTemp.some((f) => f.n === "manifest.json"),
        "the drop was SIGKILLed while writing: bundle.zip begun in its temp folder, no manifest yet",
        `${raced}, ${killed.signal ?? `exit ${killed.code}`}, held ${landed.join(", ")}`,
      );
      r.check(
        mid.visible.length === 0 && stuck !== undefined && afterKill.complete.length === 0,
        "nothing visible or shipped; the bundle record is left `writing`",
        `visible ${mid.visible.length}, ${afterKill.bundles.map(afterKill.describe).join("; ")}`,
      );

      if (stuck) await nextSecondAfter(stuck.slot);
      const again = await runBuilt(["export", CAMPAIGN_ID, "--now"], {
        env,
        logFile: path.join(w.logDir, "export-next.log"),
      });
      const end = await exportDirState(w.exportDir);
      const done = await ledger(w, ids);
      const shipped = done.complete[0];
      r.step(`export --now at another second: ${said(again)}`);
      const wholeZip = shipped ? (await stat(path.join(w.exportDir, shipped.dir, "bundle.zip"))).size : 0;
      const zipAtKill = inTemp?.find((f) => f.n === "bundle.zip")?.size ?? 0;
      const verified = await verifyBundles(w, done.complete);
      const released = await auditCounts(w.store, "bundle.released");

      r.count("temp folder at the kill", `${caught ?? "none"}: ${landed.join(", ")}`);
      r.count("bundle.zip at the kill", `${zipAtKill} of ${wholeZip} B`);
      r.count("left by the kill", afterKill.bundles.map(afterKill.describe).join("; ") || "no bundle record");
      r.count("next drop said", again.out.trim().split("\n").slice(0, 2).join(" | "));
      r.count("bundles at the end", done.bundles.map(done.describe).join("; "));
      r.count("complete bundles per output", done.perOutput);
      r.count("outputs", done.statuses);
      r.count("temp folders at the end", end.hidden.length);
      for (const v of verified.results) r.count(`bundles verify ${v.dir}`, v.said);

      r.check(
        zipAtKill > 0 && zipAtKill < wholeZip,
        "the kill cut the zip short (fewer bytes than the whole bundle.zip)",
        `${zipAtKill} of ${wholeZip} B`,
      );
      r.check(
        again.code === 0 && shipped !== undefined && shipped.slot !== stuck?.slot,
        "the next forced drop, at another second, writes a bundle",
        said(again),
      );
      r.check(
        stuck !== undefined && /recovered .*released/.test(again.out) && released.get(stuck.id) === 1,
        "it releases the killed drop's reservation and says so (output and audit)",
        `${again.out.trim().split("\n")[0]}; bundle.released ${stuck ? (released.get(stuck.id) ?? 0) : "-"}`,
      );
      r.check(
        end.hidden.length === 0 && end.partial.length === 0,
        "the killed drop's temp folder is gone, nothing partial visible",
        `temp ${end.hidden.join(", ") || "none"}, partial ${end.partial.join(", ") || "none"}`,
      );
      r.check(
        done.shippedOnce && done.allExported,
        `every approved output shipped exactly once (${ids.length})`,
        `${done.perOutput}; ${done.statuses}`,
      );
      r.check(
        verified.ok,
        "`testimony bundles verify` passes",
        verified.results.map((v) => v.said).join("; "),
      );
    } finally {
      await w.dispose();
    }
  },
};
