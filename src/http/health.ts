import type { FastifyInstance } from "fastify";
import type { Store } from "../store/store.js";

const PING_TIMEOUT_MS = 2000;

/** 200 when Redis answers a PING in time, else 503: what a load balancer or orchestrator needs. */
export function healthRoutes(app: FastifyInstance, store: Store) {
  app.register(async (scope) => healthRoute(scope, store));
}

function healthRoute(app: FastifyInstance, store: Store) {
  app.get("/health", { config: { access: { auth: "public" } } }, async (req, reply) => {
    const started = Date.now();
    try {
      await Promise.race([
        store.redis.ping(),
        new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), PING_TIMEOUT_MS).unref()),
      ]);
      return { status: "ok", redis: { ok: true, ms: Date.now() - started } };
    } catch (err) {
      req.log.warn({ err: (err as Error).message }, "health check: Redis unavailable");
      return reply
        .code(503)
        .send({ status: "unavailable", redis: { ok: false, error: (err as Error).message } });
    }
  });
}
