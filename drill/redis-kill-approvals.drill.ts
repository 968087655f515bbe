import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { addUser } from "../src/app/users.service.js";
import type { Drill } from "./support/drill.js";
import { auditCounts, histogram, outputsFor, seed } from "./support/fixtures.js";
import { call, type Reply, startApi } from "./support/http.js";
import { openWorld, PREFIX } from "./support/world.js";

const APPROVALS = 200;
const IN_FLIGHT = 25;

export const redisKillApprovals: Drill = {
  name: "3. Redis SIGKILLed right after a burst of approvals",
  promise: "with appendfsync always, every approval the API acknowledged survives a SIGKILL of Redis",
  async run(r) {
    const w = await openWorld("redis-kill", { appendfsync: "always" });
    let api: Awaited<ReturnType<typeof startApi>> | undefined;
    try {
      r.step(`redis-server on port ${w.redis.port} (AOF, appendfsync always), data in ${w.root}`);
      const { quotes } = await seed(w.store, { quotes: APPROVALS });
      const outputs = await outputsFor(w.store, w.dataDir, quotes, {
        status: "in_review",
        queuedBy: "staff1",
      });
      const ids = outputs.map((o) => o.id);
      const { token } = await addUser(w.store, "reviewer1", ["reviewer"], "drill");
      api = await startApi({
        redisUrl: w.redis.url,
        prefix: PREFIX,
        dataDir: w.dataDir,
        exportDir: w.exportDir,
      });
      r.step(`${ids.length} outputs in review; API listening at ${api.url}`);

      const replies: Reply[] = new Array(ids.length);
      let next = 0;
      const t0 = Date.now();
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          for (let i = next++; i < ids.length; i = next++) {
            replies[i] = await call(api!.url, "POST", `/api/outputs/${ids[i]}/approve`, token, {
              comment: `drill ${i}`,
            });
          }
        }),
      );
      const burstMs = Date.now() - t0;
      const lastReplyAt = Date.now();
      await w.redis.kill();
      const killGapMs = Date.now() - lastReplyAt;
      const acked = ids.filter((_, i) => replies[i]?.status === 200);
      r.step(
        `${ids.length} approvals in ${burstMs} ms (${IN_FLIGHT} in flight); Redis killed ` +
          `(${w.redis.lastExit?.signal}) ${killGapMs} ms after the last reply`,
      );

      await api.close();
      api = undefined;
      await w.redis.start();
      r.step(`Redis restarted from its AOF on the same port and dir`);
      const aofDir = path.join(w.redis.dir, "appendonlydir");
      const aofBytes = (
        await Promise.all((await readdir(aofDir)).map((f) => stat(path.join(aofDir, f))))
      ).reduce((n, s) => n + s.size, 0);

      const after = (await w.store.outputs.getMany(ids)).map((v) => v.value);
      const approvedAudit = await auditCounts(w.store, "output.approved");
      const decisionsOk = after.filter(
        (o) =>
          o.decisions.length === 1 &&
          o.decisions[0]!.decision === "approved" &&
          o.decisions[0]!.by === "reviewer1",
      ).length;
      const auditPer = acked.map((id) => approvedAudit.get(id) ?? 0);
      const user = await w.store.users.get("reviewer1");

      r.count("approval replies", histogram(replies.map((x) => x?.status ?? "none")));
      r.count("burst", `${burstMs} ms, ${(ids.length / (burstMs / 1000)).toFixed(0)} approvals/s`);
      r.count("kill after last reply", `${killGapMs} ms`);
      r.count("AOF on disk", `${(aofBytes / 1024).toFixed(0)} KiB`);
      r.count("outputs found after restart", after.length);
      r.count("statuses after restart", histogram(after.map((o) => o.status)));
      r.count("with their one decision", decisionsOk);
      r.count("output.approved audit per output", histogram(auditPer));

      r.check(
        w.redis.lastExit?.signal === "SIGKILL",
        "Redis died by SIGKILL (no shutdown fsync)",
        String(w.redis.lastExit?.signal),
      );
      r.check(
        acked.length === ids.length,
        `all ${ids.length} approvals acknowledged with 200`,
        histogram(replies.map((x) => x?.status ?? "none")),
      );
      r.check(
        after.length === ids.length && after.every((o) => o.status === "approved"),
        "every output approved after the restart",
        histogram(after.map((o) => o.status)),
      );
      r.check(
        decisionsOk === ids.length,
        "every output keeps its decision (reviewer1, approved)",
        `${decisionsOk}/${ids.length}`,
      );
      r.check(
        auditPer.every((n) => n === 1),
        "exactly one output.approved audit entry per output",
        histogram(auditPer),
      );
      r.check(Boolean(user), "the reviewer account is still there");
    } finally {
      await api?.close().catch(() => {});
      await w.dispose();
    }
  },
};
