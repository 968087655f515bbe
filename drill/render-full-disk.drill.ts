import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { addUser } from "../src/app/users.service.js";
import type { Output } from "../src/domain/output.js";
import { ensureBuilt, runBuilt, said, spawnBuilt } from "./support/built.js";
import type { Drill } from "./support/drill.js";
import { auditCounts, CAMPAIGN_ID, histogram, seed } from "./support/fixtures.js";
import { FullDisk } from "./support/full-disk.js";
import { type NodeChild, sleep, tail, until } from "./support/processes.js";
import { openWorld } from "./support/world.js";

const QUOTES = 6; // × 2 formats = 12 outputs
const TMPFS_BYTES = 2 * 1024 * 1024;
/** 5 attempts, 2 + 4 + 8 + 16 s apart (JOB_DEFAULTS.render), plus the renders and some slack. */
const FAIL_WITHIN_MS = 60_000;

/** Every file under a folder, relative, with its size. */
async function filesUnder(dir: string, rel = ""): Promise<{ rel: string; size: number }[]> {
  const out: { rel: string; size: number }[] = [];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true }).catch(() => [])) {
    const r = path.join(rel, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(dir, r)));
    else out.push({ rel: r, size: (await stat(path.join(dir, r))).size });
  }
  return out;
}

export const renderFullDisk: Drill = {
  name: "8. render onto a full disk, then `testimony retry`",
  promise:
    "renders onto a full DATA_DIR are retried by themselves and then end `failed` (no half-written card); once space is freed `testimony retry --campaign C` brings every output to in_review",
  usesBuild: true,
  async run(r) {
    r.step(await ensureBuilt());
    const w = await openWorld("render-full-disk");
    const disk = await FullDisk.mount(w.dataDir, TMPFS_BYTES);
    let worker: NodeChild | undefined;
    try {
      r.step(`redis-server on port ${w.redis.port}; DATA_DIR: ${disk.why}`);
      await seed(w.store, { quotes: QUOTES, campaign: { formats: ["square", "story"] } });
      const { token } = await addUser(w.store, "staff1", ["staff"], "drill");
      const env = w.env({ TESTIMONY_TOKEN: token });
      worker = spawnBuilt(["work", "--queue", "render", "--concurrency", "2"], {
        env,
        logFile: path.join(w.logDir, "work-render.log"),
      });
      const w1 = worker;
      await until("the render worker started", () => w1.stderr().includes("worker started"), 30_000, 50);
      const filler = await disk.fill();
      r.step(
        `\`testimony work --queue render\` (pid ${worker.child.pid}) up; DATA_DIR filled (${Math.round(filler / 1024)} KiB filler, ${await disk.freeBytes()} B free)`,
      );

      const queued = await runBuilt(["queue", CAMPAIGN_ID, "--no-wait"], {
        env: { ...env, LOG_LEVEL: "warn" },
        logFile: path.join(w.logDir, "queue.log"),
      });
      r.step(`testimony queue ${CAMPAIGN_ID} --no-wait: ${said(queued)}`);
      const ids = await w.store.outputs.ids([`campaign:${CAMPAIGN_ID}`]);
      const outputs = async () => (await w.store.outputs.getMany(ids)).map((v) => v.value);
      const t0 = Date.now();
      const failed = await until(
        "every output to end failed (after its automatic retries)",
        async () => {
          const outs = await outputs();
          return outs.length > 0 && outs.every((o) => o.status !== "queued" && o.status !== "rendering")
            ? outs
            : undefined;
        },
        FAIL_WITHIN_MS,
        200,
      );
      const failedAfter = (Date.now() - t0) / 1000;
      const onDisk = await filesUnder(w.dataDir);
      const cards = onDisk.filter((f) => f.rel.startsWith("outputs"));
      const reasons = histogram(failed.map((o) => `${o.status} ${o.failure?.reason ?? ""}`.trim()));
      const attempts = histogram(failed.map((o) => o.failure?.attempts ?? o.attempts));
      r.step(
        `${ids.length} outputs settled ${failedAfter.toFixed(1)} s after queueing: ${reasons}; attempts ${attempts}`,
      );
      r.count("outputs", ids.length);
      r.count("settled after", `${failedAfter.toFixed(1)} s`);
      r.count("status and reason", reasons);
      r.count("attempts per output", attempts);
      r.count("failure message", histogram(failed.map((o) => (o.failure?.message ?? "").slice(0, 60))));
      r.count("files written under outputs/", cards.map((f) => `${f.rel} ${f.size} B`).join(", ") || "none");
      r.check(ids.length === QUOTES * 2, `queueing created ${QUOTES * 2} outputs`, `${ids.length}`);
      r.check(
        failed.every((o) => o.status === "failed" && /ENOSPC/.test(o.failure?.message ?? "")),
        `every output ends failed with ${disk.expectedError}`,
        reasons,
      );
      r.check(
        failed.every((o) => (o.failure?.attempts ?? 0) >= 5),
        "each failed only after the automatic retries (5 attempts)",
        attempts,
      );
      r.check(
        cards.length === 0,
        "no card or text file, whole or partial, was left",
        `${cards.length} files`,
      );

      // Nothing moves a failed output by itself: the operator frees space and retries.
      await disk.free();
      r.step(`space freed (${Math.round((await disk.freeBytes()) / 1024)} KiB free)`);
      const retried = await runBuilt(["retry", "--campaign", CAMPAIGN_ID, "--reason", "disk freed"], {
        env: { ...env, LOG_LEVEL: "warn" },
        logFile: path.join(w.logDir, "retry.log"),
      });
      r.step(`testimony retry --campaign ${CAMPAIGN_ID}: ${said(retried)}`);
      const t1 = Date.now();
      const settled = await until(
        "every output rendered after the retry",
        async () => {
          const outs = await outputs();
          return outs.every((o) => o.status !== "queued" && o.status !== "rendering") ? outs : undefined;
        },
        30_000,
        100,
      ).catch(async () => outputs());
      const renderedAfter = (Date.now() - t1) / 1000;
      const rendered = await auditCounts(w.store, "output.rendered");
      const retriedAudit = await auditCounts(w.store, "output.retried");
      const cardsOk = await Promise.all(
        settled.map((o: Output) =>
          o.files
            ? stat(path.join(w.dataDir, o.files.card)).then(
                (s) => s.size > 0,
                () => false,
              )
            : false,
        ),
      );
      r.step(`${histogram(settled.map((o) => o.status))} ${renderedAfter.toFixed(1)} s after the retry`);
      r.count("retry said", retried.out.trim().split("\n").at(-1) ?? "");
      r.count(
        "after the retry",
        `${histogram(settled.map((o) => o.status))} in ${renderedAfter.toFixed(1)} s`,
      );
      r.count("output.retried per output", histogram(ids.map((id) => retriedAudit.get(id) ?? 0)));
      r.count("output.rendered per output", histogram(ids.map((id) => rendered.get(id) ?? 0)));

      r.check(
        retried.code === 0 && retried.out.includes(`${ids.length} retried, 0 refused`),
        "`testimony retry --campaign` retries every failed output",
        said(retried),
      );
      r.check(
        settled.every((o) => o.status === "in_review"),
        `every output in_review after the retry`,
        histogram(settled.map((o) => o.status)),
      );
      r.check(
        ids.every((id) => retriedAudit.get(id) === 1 && rendered.get(id) === 1),
        "one output.retried and one output.rendered audit entry per output",
      );
      r.check(cardsOk.every(Boolean), "every output's card file exists");
      if (!r.passed) r.note(`work-render.log:\n${(await tail(worker.logFile, 10)).join("\n")}`);
      worker.child.kill("SIGTERM");
      await Promise.race([worker.exited, sleep(15_000)]);
    } finally {
      worker?.child.kill("SIGKILL");
      await disk.dispose();
      await w.dispose();
    }
  },
};
