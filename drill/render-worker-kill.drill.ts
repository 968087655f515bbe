import { stat } from "node:fs/promises";
import path from "node:path";
import { queueCampaign } from "../src/app/queue.service.js";
import { closeQueues, createQueues } from "../src/queues/queues.js";
import { loadTextTemplates } from "../src/render/text/text.render.js";
import type { Drill } from "./support/drill.js";
import { auditCounts, CAMPAIGN_ID, histogram, seed } from "./support/fixtures.js";
import { type NodeChild, spawnTsx, tail, until } from "./support/processes.js";
import { openWorld, PREFIX } from "./support/world.js";

const QUOTES = 16; // × 2 formats = 32 outputs
const KILL_AFTER_RENDERED = 10;
const WORKER = path.join(import.meta.dirname, "..", "test", "children", "render-worker-child.ts");

export const renderWorkerKill: Drill = {
  name: "1. render worker SIGKILLed mid-render",
  promise: "after a worker is SIGKILLed mid-render and restarted, every output is rendered exactly once",
  async run(r) {
    const w = await openWorld("render-kill");
    const queues = createQueues(w.conn, w.store.keys);
    const children: NodeChild[] = [];
    try {
      r.step(`redis-server on port ${w.redis.port} (AOF on), data in ${w.root}`);
      await seed(w.store, { quotes: QUOTES, campaign: { formats: ["square", "story"] } });
      const templates = loadTextTemplates();
      const q = await queueCampaign(w.store, queues, {
        campaignId: CAMPAIGN_ID,
        actor: "staff1",
        templateVersion: templates.version,
      });
      const ids = q.outputIds;
      r.step(`queued ${ids.length} outputs (${QUOTES} quotes × 2 formats), ${q.jobsAdded} render jobs`);

      const start = (n: number) => {
        const c = spawnTsx(WORKER, [w.redis.url, PREFIX, w.dataDir, "1"], {
          logFile: path.join(w.logDir, `worker-${n}.log`),
        });
        children.push(c);
        return c;
      };
      const statuses = async () => (await w.store.outputs.getMany(ids)).map((v) => v.value);

      const first = start(1);
      await until("worker 1 ready", () => first.stdout().includes("ready"), 20_000);
      r.step(`worker 1 (pid ${first.child.pid}) started: concurrency 1, lock 2 s, stall check 1 s`);

      // Kill the moment an output is being rendered, once a good part of the run is done.
      const victim = await until(
        `an output in 'rendering' after ${KILL_AFTER_RENDERED} rendered`,
        async () => {
          const outs = await statuses();
          const done = outs.filter((o) => o.status === "in_review").length;
          const rendering = outs.find((o) => o.status === "rendering");
          if (done >= KILL_AFTER_RENDERED && rendering) {
            first.child.kill("SIGKILL");
            return { id: rendering.id, done };
          }
          return undefined;
        },
        30_000,
        2,
      );
      const exit = await first.exited;
      r.step(
        `SIGKILLed worker 1 (${exit.signal}) while ${victim.id} was rendering; ${victim.done}/${ids.length} in review by then`,
      );
      const atKill = await statuses();
      r.count("outputs", ids.length);
      r.count("in_review when killed", atKill.filter((o) => o.status === "in_review").length);
      r.count("left 'rendering' by the kill", atKill.filter((o) => o.status === "rendering").length);

      const second = start(2);
      await until("worker 2 ready", () => second.stdout().includes("ready"), 20_000);
      r.step(`worker 2 (pid ${second.child.pid}) started`);
      const settled = await until(
        "every output to leave queued/rendering",
        async () => {
          const outs = await statuses();
          return outs.every((o) => o.status !== "queued" && o.status !== "rendering") ? outs : undefined;
        },
        40_000,
        100,
      );
      r.step("all outputs settled; stopping worker 2");
      second.child.kill("SIGTERM");
      await second.exited;

      const rendered = await auditCounts(w.store, "output.rendered");
      const perOutput = ids.map((id) => rendered.get(id) ?? 0);
      const victimOut = settled.find((o) => o.id === victim.id)!;
      const cardsOnDisk = await Promise.all(
        settled.map((o) =>
          o.files
            ? stat(path.join(w.dataDir, o.files.card)).then(
                (s) => s.size > 0,
                () => false,
              )
            : false,
        ),
      );
      const jobs = await queues.render.getJobCounts("completed", "failed", "wait", "active", "delayed");
      r.count("statuses at the end", histogram(settled.map((o) => o.status)));
      r.count("output.rendered per output", histogram(perOutput));
      r.count("killed output's attempts", victimOut.attempts);
      r.count("card files on disk", cardsOnDisk.filter(Boolean).length);
      r.count(
        "render jobs",
        `completed ${jobs.completed}, failed ${jobs.failed}, waiting ${jobs.wait}, active ${jobs.active}`,
      );
      r.check(
        atKill.some((o) => o.status === "rendering"),
        "the kill landed mid-render (an output left in 'rendering')",
      );
      r.check(
        settled.every((o) => o.status === "in_review"),
        `all ${ids.length} outputs in_review`,
        histogram(settled.map((o) => o.status)),
      );
      r.check(
        perOutput.every((n) => n === 1),
        "exactly one output.rendered audit entry per output",
        histogram(perOutput),
      );
      r.check(cardsOnDisk.every(Boolean), "every output's card file exists");
      r.check(
        jobs.failed === 0 && jobs.completed === ids.length,
        "every render job completed, none failed",
        JSON.stringify(jobs),
      );
      if (!r.passed)
        for (const c of children)
          r.note(`${path.basename(c.logFile)}:\n${(await tail(c.logFile, 8)).join("\n")}`);
    } finally {
      for (const c of children) c.child.kill("SIGKILL");
      await closeQueues(queues).catch(() => {});
      await w.dispose();
    }
  },
};
