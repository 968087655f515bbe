import { addUser } from "../src/app/users.service.js";
import { ensureBuilt, startBuilt } from "./support/built.js";
import type { Drill } from "./support/drill.js";
import { auditCounts, CAMPAIGN_ID, histogram, seed } from "./support/fixtures.js";
import { call, loginForm, type Reply, signIn } from "./support/http.js";
import { type NodeChild, sleep, tail, until } from "./support/processes.js";
import { openWorld } from "./support/world.js";

const QUOTES = Number(process.env.DRILL_OOM_QUOTES) || 40; // × 2 formats = 80 outputs
const OOM_AFTER_RENDERED = 8;
const WINDOW_MS = Number(process.env.DRILL_OOM_WINDOW_MS) || 8000;
const MAX_LINES_PER_S = 5;
const RESUME_WITHIN_MS = 75_000;

/** A pino JSON line as its message, for a histogram of what was logged. */
const msgOf = (line: string) => {
  try {
    const j = JSON.parse(line) as { msg?: string; errors?: number };
    return `"${j.msg}"`;
  } catch {
    return line.slice(0, 60);
  }
};

const replyText = (x: Reply) =>
  `${x.status}${x.retryAfter ? ` Retry-After ${x.retryAfter}` : ""} ${JSON.stringify(x.body).slice(0, 90)}`;

export const redisOom: Drill = {
  name: "9. Redis out of memory under a running `testimony start`",
  promise:
    "with Redis refusing writes (maxmemory, noeviction) the process logs at most a few lines a second, the API answers 503 with Retry-After (not 500), /health says degraded; with memory back the work resumes by itself",
  usesBuild: true,
  async run(r) {
    r.step(await ensureBuilt());
    const w = await openWorld("redis-oom");
    let app: NodeChild | undefined;
    try {
      await seed(w.store, { quotes: QUOTES, campaign: { formats: ["square", "story"] } });
      const { token: staff } = await addUser(w.store, "staff1", ["staff"], "drill");
      const { token: reviewer } = await addUser(w.store, "rev1", ["reviewer"], "drill");
      const started = await startBuilt(w);
      app = started.app;
      const base = started.base;
      r.step(
        `redis-server on port ${w.redis.port}; \`testimony start\` (pid ${app.child.pid}) up at ${base}`,
      );
      const form = await loginForm(base); // the form's signing key is made now, while Redis has memory

      const queued = await call(base, "POST", `/api/campaigns/${CAMPAIGN_ID}/queue`, staff, {});
      const ids = (queued.body as { outputIds?: string[] }).outputIds ?? [];
      r.check(
        queued.status === 202 && ids.length === QUOTES * 2,
        "queued through the API",
        replyText(queued),
      );
      const statuses = async () => (await w.store.outputs.getMany(ids)).map((v) => v.value);
      const inReview = await until(
        `${OOM_AFTER_RENDERED} outputs in review`,
        async () => {
          const outs = (await statuses()).filter((o) => o.status === "in_review");
          return outs.length >= OOM_AFTER_RENDERED ? outs : undefined;
        },
        30_000,
        5,
      );
      const used = Number(/used_memory:(\d+)/.exec(await w.conn.info("memory"))![1]);
      const maxmemory = Math.floor(used * 0.9);
      await w.conn.config("SET", "maxmemory", String(maxmemory));
      const oomAt = Date.now();
      const atOom = await statuses();
      r.step(
        `CONFIG SET maxmemory ${maxmemory} (used ${used} B) with ${histogram(atOom.map((o) => o.status))}`,
      );

      // Measuring a rate over a window: the one place a fixed wait is the point.
      const before = app.stderr().length;
      await sleep(WINDOW_MS);
      const windowLines = app.stderr().slice(before).split("\n").filter(Boolean);
      const perSecond = windowLines.length / (WINDOW_MS / 1000);
      r.step(`${windowLines.length} log lines in ${WINDOW_MS / 1000} s of OOM (${perSecond.toFixed(1)}/s)`);

      const approve = await call(base, "POST", `/api/outputs/${inReview[0]!.id}/approve`, reviewer, {
        comment: "drill",
      });
      const queue = await call(base, "POST", `/api/campaigns/${CAMPAIGN_ID}/queue`, staff, {});
      const login = await signIn(base, form, reviewer);
      const health = await call(base, "GET", "/health");
      r.step(
        `under OOM: approve ${approve.status}, queue ${queue.status}, sign-in ${login.status}, /health ${health.status}`,
      );

      await w.conn.config("SET", "maxmemory", "0");
      const freedAt = Date.now();
      r.step(`maxmemory 0 again after ${((freedAt - oomAt) / 1000).toFixed(1)} s of OOM`);
      const healthBack = await until(
        "/health 200 again",
        async () => (await call(base, "GET", "/health")).status === 200,
        10_000,
        50,
      ).then(
        () => Date.now() - freedAt,
        () => undefined,
      );
      const settled = await until(
        "every output in review",
        async () => {
          const outs = await statuses();
          return outs.every((o) => o.status !== "queued" && o.status !== "rendering") ? outs : undefined;
        },
        RESUME_WITHIN_MS,
        100,
      ).catch(async () => statuses());
      const resumedMs = Date.now() - freedAt;
      r.step(
        `${histogram(settled.map((o) => o.status))} ${(resumedMs / 1000).toFixed(1)} s after memory came back`,
      );
      const approveAfter = await call(base, "POST", `/api/outputs/${inReview[0]!.id}/approve`, reviewer, {
        comment: "drill",
      });
      const rendered = await auditCounts(w.store, "output.rendered");
      const perOutput = ids.map((id) => rendered.get(id) ?? 0);
      const log = app.stderr().split("\n").filter(Boolean);
      const resumedLine = log.some((l) => /Redis accepts work again/.test(l));

      app.child.kill("SIGTERM");
      const exit = await Promise.race([app.exited, sleep(25_000).then(() => undefined)]);

      r.count("outputs", ids.length);
      r.count(
        "log lines under OOM",
        `${windowLines.length} in ${WINDOW_MS / 1000} s = ${perSecond.toFixed(1)}/s`,
      );
      r.count("what they said", histogram(windowLines.map(msgOf)));
      r.count("POST approve under OOM", replyText(approve));
      r.count("POST queue under OOM", replyText(queue));
      r.count("POST /review/login under OOM", replyText(login));
      r.count("GET /health under OOM", replyText(health));
      r.count("/health 200 again after", healthBack === undefined ? "not within 10 s" : `${healthBack} ms`);
      r.count(
        "outputs after memory came back",
        `${histogram(settled.map((o) => o.status))} in ${(resumedMs / 1000).toFixed(1)} s`,
      );
      r.count("output.rendered per output", histogram(perOutput));
      r.count("approve after", replyText(approveAfter));

      r.check(
        perSecond <= MAX_LINES_PER_S,
        `at most ${MAX_LINES_PER_S} log lines a second under OOM`,
        `${perSecond.toFixed(1)}/s`,
      );
      for (const [what, x] of [
        ["approve", approve],
        ["queue", queue],
        ["sign-in", login],
      ] as const) {
        r.check(
          x.status === 503 &&
            Number(x.retryAfter) > 0 &&
            (x.body as { error?: string }).error === "unavailable",
          `${what} answers 503 unavailable with Retry-After`,
          replyText(x),
        );
      }
      const hb = health.body as { status?: string; redis?: { reason?: string } };
      r.check(
        health.status === 503 && hb.status === "degraded" && /^OOM/.test(hb.redis?.reason ?? ""),
        "/health answers 503 degraded with Redis's OOM reason",
        replyText(health),
      );
      r.check(healthBack !== undefined, "/health 200 again once Redis has memory", `${healthBack} ms`);
      r.check(
        settled.every((o) => o.status === "in_review") && perOutput.every((n) => n === 1),
        `the worker resumes by itself: all ${ids.length} outputs in_review, each rendered once`,
        `${histogram(settled.map((o) => o.status))}; rendered ${histogram(perOutput)}`,
      );
      r.check(resumedLine, 'the worker says it works again ("Redis accepts work again")');
      r.check(
        approveAfter.status === 200,
        "the approval refused under OOM goes through afterwards",
        replyText(approveAfter),
      );
      r.check(exit?.code === 0, "testimony start shuts down cleanly", exit ? `code ${exit.code}` : "hung");
      if (!r.passed) r.note(`testimony-start.log:\n${(await tail(app.logFile, 12)).join("\n")}`);
    } finally {
      await w.conn.config("SET", "maxmemory", "0").catch(() => undefined);
      app?.child.kill("SIGKILL");
      await w.dispose();
    }
  },
};
