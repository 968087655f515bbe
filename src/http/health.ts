import type { FastifyInstance } from "fastify";
import { probeWrite } from "../store/health.store.js";
import type { Store } from "../store/store.js";

const PING_TIMEOUT_MS = 2000;

/**
 * 200 when Redis answers a PING and accepts a write in time; 503 `degraded` with Redis's reason when it
 * answers but refuses writes (out of memory, read-only); 503 `unavailable` when it does not answer.
 */
export function healthRoutes(app: FastifyInstance, store: Store) {
  app.register(async (scope) => healthRoute(scope, store));
}

function healthRoute(app: FastifyInstance, store: Store) {
  app.get("/health", { config: { access: { auth: "public" } } }, async (req, reply) => {
    const started = Date.now();
    try {
      let timer: NodeJS.Timeout | undefined;
      const refused = await Promise.race([
        store.redis.ping().then(() => probeWrite(store.redis, store.keys)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("timeout")), PING_TIMEOUT_MS);
        }),
      ]).finally(() => clearTimeout(timer));
      if (refused) {
        req.log.warn({ reason: refused }, "health check: Redis refuses writes");
        return reply
          .code(503)
          .send({ status: "degraded", redis: { ok: false, writable: false, reason: refused } });
      }
      return { status: "ok", redis: { ok: true, writable: true, ms: Date.now() - started } };
    } catch (err) {
      req.log.warn({ err: (err as Error).message }, "health check: Redis unavailable");
      return reply
        .code(503)
        .send({ status: "unavailable", redis: { ok: false, error: (err as Error).message } });
    }
  });
}
