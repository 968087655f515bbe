import path from "node:path";
import { addUser } from "../src/app/users.service.js";
import type { Drill } from "./support/drill.js";
import { auditCounts, CAMPAIGN_ID, histogram, seed } from "./support/fixtures.js";
import { call } from "./support/http.js";
import { CLI_MAIN, freeHttpPort, type NodeChild, sleep, spawnTsx, tail, until } from "./support/processes.js";
import { openWorld } from "./support/world.js";

const QUOTES = 20; // × 2 formats = 40 outputs
const RESTART_AFTER_RENDERED = 6;
const DOWN_MS = 2000;
const SETTLE_MS = 75_000;

export const redisRestart: Drill = {
  name: "2. Redis restarted under a running `testimony start`",
  promise:
    "after a graceful Redis restart (AOF on) with jobs queued, workers and API reconnect by themselves and finish",
  async run(r) {
    const w = await openWorld("redis-restart");
    let app: NodeChild | undefined;
    try {
      r.step(`redis-server on port ${w.redis.port} (AOF everysec), data in ${w.root}`);
      await seed(w.store, { quotes: QUOTES, campaign: { formats: ["square", "story"] } });
      const { token: staff } = await addUser(w.store, "staff1", ["staff"], "drill");
      const port = await freeHttpPort();
      const base = `http://127.0.0.1:${port}`;
      app = spawnTsx(CLI_MAIN, ["start", "--concurrency", "2"], {
        env: w.env({ PORT: String(port) }),
        logFile: path.join(w.logDir, "testimony-start.log"),
      });
      await until(
        "/health 200 from testimony start",
        async () => (await call(base, "GET", "/health")).status === 200,
        30_000,
        200,
      );
      r.step(
        `\`testimony start\` (pid ${app.child.pid}) up at ${base}: API, render + export workers, scheduler`,
      );

      const queued = await call(base, "POST", `/api/campaigns/${CAMPAIGN_ID}/queue`, staff, {});
      const ids = (queued.body as { outputIds?: string[] }).outputIds ?? [];
      r.check(
        queued.status === 202 && ids.length === QUOTES * 2,
        "POST /api/campaigns/:id/queue → 202",
        `${queued.status}, ${ids.length} outputs`,
      );
      r.step(`queued ${ids.length} outputs through the API`);
      const statuses = async () => (await w.store.outputs.getMany(ids)).map((v) => v.value.status);

      await until(
        `${RESTART_AFTER_RENDERED} outputs in review`,
        async () => (await statuses()).filter((s) => s === "in_review").length >= RESTART_AFTER_RENDERED,
        30_000,
        5,
      );
      const before = await statuses();
      r.count("outputs", ids.length);
      r.count("at the stop", histogram(before));

      const downAt = Date.now();
      await w.redis.stop();
      r.step(
        `Redis stopped gracefully (SIGTERM) with ${before.filter((s) => s !== "in_review").length} outputs unfinished`,
      );
      await sleep(300);
      const healthDown = await call(base, "GET", "/health");
      const apiDown = await call(base, "GET", `/api/outputs/${ids[0]}`, staff);
      r.step(
        `while Redis is down: /health ${healthDown.status} (${healthDown.ms} ms), GET /api/outputs/:id ${apiDown.status} (${apiDown.ms} ms)`,
      );
      await sleep(Math.max(0, DOWN_MS - (Date.now() - downAt)));
      await w.redis.start();
      const upAt = Date.now();
      r.step(
        `Redis started again on port ${w.redis.port}, same dir (down ${((upAt - downAt) / 1000).toFixed(1)} s)`,
      );

      const healthBack = await until(
        "/health 200 again",
        async () => (await call(base, "GET", "/health")).status === 200,
        20_000,
        50,
      ).then(
        () => true,
        () => false,
      );
      const healthBackMs = Date.now() - upAt;
      r.step(
        healthBack
          ? `/health 200 again ${healthBackMs} ms after Redis came back`
          : "/health not 200 within 20 s",
      );

      // A job whose hand-over reply was lost in the restart comes back only as a stalled job: after its
      // lock expires and a stall check sees it: 10 s + 5 s in `testimony start` (30 + 30 s before). 75 s is generous.
      const settledInTime = await until(
        "every output in a final state",
        async () => {
          const s = await statuses();
          return s.every((x) => x !== "queued" && x !== "rendering") ? s : undefined;
        },
        SETTLE_MS,
        100,
      ).then(
        () => true,
        () => false,
      );
      const finalStatuses = await statuses();
      const finishedMs = Date.now() - upAt;
      r.step(
        settledInTime
          ? `all outputs settled ${(finishedMs / 1000).toFixed(1)} s after Redis came back`
          : `outputs still unfinished ${(finishedMs / 1000).toFixed(1)} s after Redis came back: ${histogram(finalStatuses)}`,
      );
      const stalled: string[] = [];
      for (const id of ids) {
        const stc = Number(await w.conn.hget(`${w.store.keys.bullPrefix}:render:${id}`, "stc"));
        if (stc > 0) stalled.push(id);
      }

      // The API writes again: re-queueing is idempotent and must answer 202 with nothing new.
      const again = await call(base, "POST", `/api/campaigns/${CAMPAIGN_ID}/queue`, staff, {});
      const againBody = again.body as { created?: number; jobsAdded?: number };
      const rendered = await auditCounts(w.store, "output.rendered");
      const perOutput = ids.map((id) => rendered.get(id) ?? 0);
      const alive = app.child.exitCode === null && app.child.signalCode === null;
      const log = await tail(app.logFile, 100_000);
      const missingLock = log.filter((l) => /Missing lock for job/.test(l)).length;
      const connWarnings = log.filter((l) => /redis connection error/.test(l)).length;
      const errors = log.filter((l) => /"level":(50|60)/.test(l)).map(summarize);

      app.child.kill("SIGTERM");
      const exit = await Promise.race([app.exited, sleep(25_000).then(() => undefined)]);
      r.step(`SIGTERM to testimony start: ${exit ? `exit code ${exit.code}` : "still running after 25 s"}`);

      r.count("/health while down", healthDown.status);
      r.count(
        "GET /api/outputs/:id while down",
        `${apiDown.status} ${JSON.stringify(apiDown.body).slice(0, 80)}`,
      );
      r.count("/health 200 again after", `${healthBackMs} ms`);
      r.count("all settled after restart", `${(finishedMs / 1000).toFixed(1)} s`);
      r.count("statuses at the end", histogram(finalStatuses));
      r.count("output.rendered per output", histogram(perOutput));
      r.count("render jobs recovered as stalled", stalled.length ? stalled.join(", ") : "none");
      r.count("'Missing lock' worker errors", missingLock);
      r.count("connection warnings logged", connWarnings);
      r.count("error/fatal log lines", histogram(errors));
      r.count(
        "re-queue after restart",
        `${again.status}, created ${againBody.created}, jobs added ${againBody.jobsAdded}`,
      );

      r.check(
        healthDown.status === 503,
        "/health answers 503 while Redis is down",
        String(healthDown.status),
      );
      r.check(healthBack, "/health answers 200 again without restarting the app", `${healthBackMs} ms`);
      r.check(alive, "testimony start kept running through the restart");
      r.check(
        finalStatuses.every((s) => s === "in_review"),
        `all ${ids.length} outputs in_review`,
        histogram(finalStatuses),
      );
      r.check(
        perOutput.every((n) => n === 1),
        "exactly one output.rendered audit entry per output",
        histogram(perOutput),
      );
      r.check(
        again.status === 202 && againBody.created === 0 && againBody.jobsAdded === 0,
        "API writes after the restart (re-queue: 202, nothing new)",
        `${again.status}, created ${againBody.created}, jobs added ${againBody.jobsAdded}`,
      );
      r.check(
        exit?.code === 0,
        "testimony start shuts down cleanly afterwards",
        exit ? `code ${exit.code}, signal ${exit.signal}` : "hung",
      );
      if (stalled.length) {
        r.note(
          `${stalled.join(", ")}: handed to the worker in the reply to its previous job's moveToFinished, a reply the\n` +
            "restart swallowed; it sat in BullMQ's active list until its lock expired and a stall check moved it back.",
        );
      }
    } finally {
      app?.child.kill("SIGKILL");
      await w.dispose();
    }
  },
};

/** An error log line as "msg: err.message", so a histogram shows what kinds there were. */
function summarize(line: string): string {
  try {
    const j = JSON.parse(line) as { msg?: string; err?: { message?: string } };
    const message = (j.err?.message ?? "")
      .replace(/127\.0\.0\.1:\d+/, "redis")
      .replace(/o-[0-9a-f]{16}/, "<job>");
    return `"${j.msg}: ${message}"`;
  } catch {
    return line.slice(0, 80);
  }
}
