import type { JobType } from "bullmq";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AppError } from "../domain/errors.js";
import { OUTPUT_STATES } from "../domain/output.js";
import type { Queues } from "../queues/queues.js";
import type { Store } from "../store/store.js";
import { sameToken } from "./auth.js";
import { sendError } from "./errors.js";
import { type TokenLimits, type TokenThrottle, tokenThrottle } from "./token-throttle.js";

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

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/**
 * Who may scrape: with METRICS_TOKEN set, a request bearing it (`Authorization: Bearer <token>`,
 * wrong ones counted by the token throttle); without it, only a client on this machine's loopback.
 */
async function checkScraper(
  req: FastifyRequest,
  reply: FastifyReply,
  token: string | undefined,
  throttle: TokenThrottle,
) {
  if (!token) {
    if (LOOPBACK.test(req.socket.remoteAddress ?? "")) return;
    throw new AppError("forbidden", "/metrics answers only this machine unless METRICS_TOKEN is set");
  }
  const given = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "")?.[1];
  await throttle.check(req, reply, undefined);
  if (given && sameToken(token, given)) return;
  await throttle.failed(req, undefined);
  reply.header("www-authenticate", "Bearer");
  throw new AppError("unauthorized", "/metrics needs Authorization: Bearer <METRICS_TOKEN>");
}

/** Prometheus text format: queue depths per queue and state, outputs per state, HTTP requests. */
export function metricsRoutes(
  app: FastifyInstance,
  deps: { store: Store; queues: Queues; web?: { metricsToken?: string; tokenLimits?: TokenLimits } },
) {
  const requests = requestCounter(app);
  app.register(async (scope) => {
    const throttle = tokenThrottle(scope, deps.web?.tokenLimits);
    scope.addHook("onRequest", async (req, reply) => {
      try {
        await checkScraper(req, reply, deps.web?.metricsToken, throttle);
      } catch (err) {
        return sendError(req, reply, err);
      }
    });
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
      // Counted in Redis from the sorted indexes: O(1) per state, whatever the store holds.
      const sizes = await Promise.all(OUTPUT_STATES.map((s) => deps.store.outputs.count([`status:${s}`])));
      OUTPUT_STATES.forEach((s, i) => {
        lines.push(`testimony_outputs{state="${s}"} ${sizes[i]}`);
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
