import type { JobType } from "bullmq";
import type { FastifyInstance } from "fastify";
import { OUTPUT_STATES } from "../domain/output.js";
import type { Queues } from "../queues/queues.js";
import type { Store } from "../store/store.js";

const JOB_STATES: JobType[] = [
  "waiting",
  "active",
  "delayed",
  "prioritized",
  "waiting-children",
  "completed",
  "failed",
];

const label = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/** Requests served since start, by method, route pattern and status (route patterns keep cardinality low). */
function requestCounter(app: FastifyInstance) {
  const counts = new Map<string, number>();
  app.addHook("onResponse", async (req, reply) => {
    const route = req.routeOptions.url ?? "unmatched";
    const key = `method="${req.method}",route="${label(route)}",status="${reply.statusCode}"`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  });
  return counts;
}

/** Prometheus text format: queue depths per queue and state, outputs per state, HTTP requests. */
export function metricsRoutes(app: FastifyInstance, deps: { store: Store; queues: Queues }) {
  const requests = requestCounter(app);
  app.register(async (scope) => {
    scope.get("/metrics", { config: { access: { auth: "public" } } }, async (_req, reply) => {
      const lines: string[] = [
        "# HELP testimony_queue_jobs Jobs in each BullMQ queue by state.",
        "# TYPE testimony_queue_jobs gauge",
      ];
      for (const [name, queue] of Object.entries(deps.queues)) {
        const counts = await queue.getJobCounts(...JOB_STATES);
        for (const state of JOB_STATES) {
          lines.push(`testimony_queue_jobs{queue="${name}",state="${state}"} ${counts[state] ?? 0}`);
        }
      }
      lines.push("# HELP testimony_outputs Outputs by state.", "# TYPE testimony_outputs gauge");
      const sizes = await Promise.all(OUTPUT_STATES.map((s) => deps.store.outputs.ids([`status:${s}`])));
      OUTPUT_STATES.forEach((s, i) => {
        lines.push(`testimony_outputs{state="${s}"} ${sizes[i]!.length}`);
      });
      lines.push(
        "# HELP testimony_http_requests_total HTTP requests answered since the process started.",
        "# TYPE testimony_http_requests_total counter",
      );
      for (const [key, n] of [...requests].sort()) lines.push(`testimony_http_requests_total{${key}} ${n}`);
      return reply.type("text/plain; version=0.0.4; charset=utf-8").send(`${lines.join("\n")}\n`);
    });
  });
}
