import { addUser } from "../src/app/users.service.js";
import type { Drill } from "./support/drill.js";
import { auditCounts, histogram, outputsFor, seed } from "./support/fixtures.js";
import { call, type Reply, startApi } from "./support/http.js";
import { openWorld, PREFIX } from "./support/world.js";

const OUTPUTS = 20;
const REVIEWERS = 9; // + the author: 10 requests per output

type Shot = { outputId: string; user: string; kind: "approve" | "reject"; reply?: Reply };

export const decisionRace: Drill = {
  name: "5. 200 concurrent approve/reject requests on 20 outputs",
  promise:
    "each output ends with exactly one decision; every losing request gets 409 (403 for the author), never 500",
  async run(r) {
    const w = await openWorld("race");
    let api: Awaited<ReturnType<typeof startApi>> | undefined;
    try {
      r.step(`redis-server on port ${w.redis.port}, data in ${w.root}`);
      const { quotes } = await seed(w.store, { quotes: OUTPUTS });
      // The author queued them and is also a reviewer: four eyes must refuse their own decisions.
      const { token: authorToken } = await addUser(w.store, "author", ["staff", "reviewer"], "drill");
      const outputs = await outputsFor(w.store, w.dataDir, quotes, {
        status: "in_review",
        queuedBy: "author",
      });
      const tokens = new Map<string, string>([["author", authorToken]]);
      for (let i = 1; i <= REVIEWERS; i++)
        tokens.set(`rev${i}`, (await addUser(w.store, `rev${i}`, ["reviewer"], "drill")).token);
      api = await startApi({
        redisUrl: w.redis.url,
        prefix: PREFIX,
        dataDir: w.dataDir,
        exportDir: w.exportDir,
      });
      r.step(`${OUTPUTS} outputs in review by 'author'; ${REVIEWERS} reviewers + author; API at ${api.url}`);

      const shots: Shot[] = [];
      for (const [n, o] of outputs.entries()) {
        for (let i = 1; i <= REVIEWERS; i++) {
          shots.push({ outputId: o.id, user: `rev${i}`, kind: (i + n) % 2 ? "approve" : "reject" });
        }
        shots.push({ outputId: o.id, user: "author", kind: n % 2 ? "approve" : "reject" });
      }
      // Shuffled, deterministically, so no output's requests arrive in a tidy block.
      let seedN = 42;
      const rand = () => {
        seedN = (seedN * 1103515245 + 12345) % 2 ** 31;
        return seedN / 2 ** 31;
      };
      for (let i = shots.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [shots[i], shots[j]] = [shots[j]!, shots[i]!];
      }

      const t0 = Date.now();
      await Promise.all(
        shots.map(async (s) => {
          const body =
            s.kind === "approve" ? { comment: `ok by ${s.user}` } : { comment: `not this one (${s.user})` };
          s.reply = await call(
            api!.url,
            "POST",
            `/api/outputs/${s.outputId}/${s.kind}`,
            tokens.get(s.user),
            body,
          );
        }),
      );
      const ms = Date.now() - t0;
      r.step(`${shots.length} requests fired at once over HTTP, all answered in ${ms} ms`);

      const after = new Map(
        (await w.store.outputs.getMany(outputs.map((o) => o.id))).map((v) => [v.value.id, v.value]),
      );
      const approved = await auditCounts(w.store, "output.approved");
      const rejected = await auditCounts(w.store, "output.rejected");
      const statusOf = (s: Shot) => s.reply?.status ?? 0;
      const unexpected = shots.filter((s) =>
        s.user === "author" ? statusOf(s) !== 403 : ![200, 409].includes(statusOf(s)),
      );
      const perOutput = outputs.map((o) => {
        const mine = shots.filter((s) => s.outputId === o.id);
        const winners = mine.filter((s) => statusOf(s) === 200);
        const out = after.get(o.id)!;
        const audit = (approved.get(o.id) ?? 0) + (rejected.get(o.id) ?? 0);
        const w0 = winners[0];
        const matches =
          winners.length === 1 &&
          out.decisions.length === 1 &&
          out.decisions[0]!.by === w0!.user &&
          out.status === (w0!.kind === "approve" ? "approved" : "rejected");
        return {
          winners: winners.length,
          decisions: out.decisions.length,
          audit,
          matches,
          status: out.status,
        };
      });

      r.count("replies", histogram(shots.map(statusOf)));
      r.count("author's replies", histogram(shots.filter((s) => s.user === "author").map(statusOf)));
      r.count("winners per output", histogram(perOutput.map((p) => p.winners)));
      r.count("decisions per output", histogram(perOutput.map((p) => p.decisions)));
      r.count("decision audit entries per output", histogram(perOutput.map((p) => p.audit)));
      r.count("outputs", histogram(perOutput.map((p) => p.status)));
      r.count("slowest reply", `${Math.max(...shots.map((s) => s.reply?.ms ?? 0))} ms`);

      r.check(
        shots.every((s) => statusOf(s) < 500 && statusOf(s) !== 0),
        "no 5xx and no dropped connection",
        histogram(shots.map(statusOf)),
      );
      r.check(
        unexpected.length === 0,
        "losers got 409, the author 403, nothing else",
        unexpected
          .slice(0, 3)
          .map((s) => `${s.user} ${s.kind} → ${statusOf(s)} ${JSON.stringify(s.reply?.body).slice(0, 120)}`)
          .join("; "),
      );
      r.check(
        perOutput.every((p) => p.winners === 1),
        "exactly one 200 per output",
        histogram(perOutput.map((p) => p.winners)),
      );
      r.check(
        perOutput.every((p) => p.decisions === 1),
        "exactly one entry in output.decisions",
        histogram(perOutput.map((p) => p.decisions)),
      );
      r.check(
        perOutput.every((p) => p.audit === 1),
        "exactly one output.approved|rejected audit entry",
        histogram(perOutput.map((p) => p.audit)),
      );
      r.check(
        perOutput.every((p) => p.matches),
        "the stored decision is the one whose request got 200",
      );
    } finally {
      await api?.close().catch(() => {});
      await w.dispose();
    }
  },
};
