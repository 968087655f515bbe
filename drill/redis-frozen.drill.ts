import path from "node:path";
import { addUser } from "../src/app/users.service.js";
import { type CliRun, ensureBuilt, runBuilt, said, startBuilt } from "./support/built.js";
import type { Drill } from "./support/drill.js";
import { auditCounts, CAMPAIGN_ID, histogram, seed } from "./support/fixtures.js";
import { call, type Reply } from "./support/http.js";
import { type NodeChild, sleep, tail, until } from "./support/processes.js";
import { openWorld } from "./support/world.js";

const QUOTES = 10; // × 2 formats = 20 outputs, queued once Redis is thawed
/** /health waits 2 s for Redis; allow for a loaded machine. */
const HEALTH_WITHIN_MS = 3500;
/** What the README promises for one-shot commands against a Redis that does not answer. */
const CLI_WITHIN_MS = 10_000;

const replyText = (x: Reply) => `${x.status} in ${x.ms} ms ${JSON.stringify(x.body).slice(0, 90)}`;
const firstError = (x: CliRun) =>
  x.err
    .split("\n")
    .find((l) => /cannot reach Redis|error/i.test(l))
    ?.slice(0, 140) ?? "";

export const redisFrozen: Drill = {
  name: "10. Redis frozen (SIGSTOP) under a running `testimony start`",
  promise:
    "with Redis frozen, /health answers 503 within its deadline instead of hanging and one-shot commands end within 10 s saying they cannot reach Redis; after SIGCONT everything works again without a restart",
  usesBuild: true,
  async run(r) {
    r.step(await ensureBuilt());
    const w = await openWorld("redis-frozen");
    let app: NodeChild | undefined;
    try {
      await seed(w.store, { quotes: QUOTES, campaign: { formats: ["square", "story"] } });
      const { token: staff } = await addUser(w.store, "staff1", ["staff"], "drill");
      const env = w.env({ TESTIMONY_TOKEN: staff, LOG_LEVEL: "warn" });
      const started = await startBuilt(w);
      app = started.app;
      const base = started.base;
      r.step(
        `redis-server on port ${w.redis.port}; \`testimony start\` (pid ${app.child.pid}) up at ${base}`,
      );

      const healthy = await runBuilt(["bundles", "list"], {
        env,
        logFile: path.join(w.logDir, "healthy-list.log"),
      });
      r.step(`bundles list against a healthy Redis: ${said(healthy)} (start-up cost on this machine)`);

      w.redis.freeze();
      const frozenAt = Date.now();
      r.step(`redis-server (pid ${w.redis.pid}) frozen with SIGSTOP`);
      const [health, apiQueue] = await Promise.all([
        call(base, "GET", "/health", undefined, undefined, 30_000),
        call(base, "POST", `/api/campaigns/${CAMPAIGN_ID}/queue`, staff, {}, 30_000),
      ]);
      // One at a time, as an operator types them: a read-only command and one that acts.
      const list = await runBuilt(["bundles", "list"], {
        env,
        logFile: path.join(w.logDir, "frozen-list.log"),
        timeoutMs: 30_000,
      });
      const queue = await runBuilt(["queue", CAMPAIGN_ID, "--no-wait"], {
        env,
        logFile: path.join(w.logDir, "frozen-queue.log"),
        timeoutMs: 30_000,
      });
      r.step(
        `while frozen: /health ${health.status} in ${health.ms} ms, POST queue ${apiQueue.status} in ${apiQueue.ms} ms, ` +
          `bundles list ${said(list)}, queue ${said(queue)}`,
      );
      const healthAgain = await call(base, "GET", "/health", undefined, undefined, 30_000);
      const frozenMs = Date.now() - frozenAt;

      w.redis.thaw();
      const thawedAt = Date.now();
      r.step(`SIGCONT after ${(frozenMs / 1000).toFixed(1)} s frozen`);
      const healthBack = await until(
        "/health 200 again",
        async () => (await call(base, "GET", "/health")).status === 200,
        15_000,
        50,
      ).then(
        () => Date.now() - thawedAt,
        () => undefined,
      );
      const queuedAfter = await runBuilt(["queue", CAMPAIGN_ID, "--no-wait"], {
        env,
        logFile: path.join(w.logDir, "thawed-queue.log"),
      });
      const listAfter = await runBuilt(["bundles", "list"], {
        env,
        logFile: path.join(w.logDir, "thawed-list.log"),
      });
      const ids = await w.store.outputs.ids([`campaign:${CAMPAIGN_ID}`]);
      const settled = await until(
        "every output rendered",
        async () => {
          const outs = (await w.store.outputs.getMany(ids)).map((v) => v.value.status);
          return outs.length > 0 && outs.every((s) => s !== "queued" && s !== "rendering") ? outs : undefined;
        },
        60_000,
        100,
      ).catch(async () => (await w.store.outputs.getMany(ids)).map((v) => v.value.status));
      const renderedMs = Date.now() - thawedAt;
      const rendered = await auditCounts(w.store, "output.rendered");
      const perOutput = ids.map((id) => rendered.get(id) ?? 0);
      const apiAfter = await call(base, "POST", `/api/campaigns/${CAMPAIGN_ID}/queue`, staff, {});
      r.step(
        `after SIGCONT: /health 200 in ${healthBack} ms, queue ${said(queuedAfter)}, ${histogram(settled)} ${(renderedMs / 1000).toFixed(1)} s after`,
      );
      const alive = app.child.exitCode === null && app.child.signalCode === null;
      app.child.kill("SIGTERM");
      const exit = await Promise.race([app.exited, sleep(25_000).then(() => undefined)]);

      r.count("frozen for", `${(frozenMs / 1000).toFixed(1)} s`);
      r.count("bundles list, healthy Redis", `exit ${healthy.code} in ${healthy.ms} ms`);
      r.count("GET /health while frozen", replyText(health));
      r.count("GET /health again while frozen", replyText(healthAgain));
      r.count("POST /api/campaigns/:id/queue while frozen", replyText(apiQueue));
      r.count("bundles list while frozen", `exit ${list.code} in ${list.ms} ms: ${firstError(list)}`);
      r.count("queue --no-wait while frozen", `exit ${queue.code} in ${queue.ms} ms: ${firstError(queue)}`);
      r.count(
        "/health 200 again after SIGCONT",
        healthBack === undefined ? "not within 15 s" : `${healthBack} ms`,
      );
      r.count("queue after SIGCONT", said(queuedAfter));
      r.count("outputs after SIGCONT", `${histogram(settled)} in ${(renderedMs / 1000).toFixed(1)} s`);
      r.count("output.rendered per output", histogram(perOutput));
      r.count("POST /api/campaigns/:id/queue after", replyText(apiAfter));

      r.check(
        health.status === 503 && health.ms <= HEALTH_WITHIN_MS && healthAgain.status === 503,
        `/health answers 503 within ${HEALTH_WITHIN_MS / 1000} s instead of hanging`,
        `${health.status} in ${health.ms} ms, then ${healthAgain.status} in ${healthAgain.ms} ms`,
      );
      r.check(
        apiQueue.status === 503 && apiQueue.ms <= CLI_WITHIN_MS && Number(apiQueue.retryAfter) > 0,
        "an API write answers 503 with Retry-After within 10 s",
        replyText(apiQueue),
      );
      for (const [what, x] of [
        ["bundles list", list],
        ["queue --no-wait", queue],
      ] as const) {
        r.check(
          x.code !== 0 && x.code !== null && x.ms <= CLI_WITHIN_MS && /cannot reach Redis/.test(x.err),
          `\`testimony ${what}\` exits non-zero within 10 s with "cannot reach Redis"`,
          `exit ${x.code ?? x.signal} in ${x.ms} ms: ${firstError(x)}`,
        );
      }
      r.check(alive, "testimony start kept running through the freeze");
      r.check(
        healthBack !== undefined,
        "/health 200 again after SIGCONT, without a restart",
        `${healthBack} ms`,
      );
      r.check(
        queuedAfter.code === 0 && listAfter.code === 0,
        "one-shot commands work again",
        `queue ${said(queuedAfter)}; bundles list exit ${listAfter.code}`,
      );
      r.check(
        ids.length === QUOTES * 2 &&
          settled.every((s) => s === "in_review") &&
          perOutput.every((n) => n === 1),
        `the workers render all ${QUOTES * 2} outputs queued after the thaw, once each`,
        `${ids.length} outputs, ${histogram(settled)}, rendered ${histogram(perOutput)}`,
      );
      r.check(apiAfter.status === 202, "the API writes again", replyText(apiAfter));
      r.check(exit?.code === 0, "testimony start shuts down cleanly", exit ? `code ${exit.code}` : "hung");
      if (!r.passed) r.note(`testimony-start.log:\n${(await tail(app.logFile, 12)).join("\n")}`);
    } finally {
      w.redis.thaw();
      app?.child.kill("SIGKILL");
      await w.dispose();
    }
  },
};
