import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import type { FastifyInstance, RouteOptions } from "fastify";
import type { Queues } from "../queues/queues.js";

export const QUEUE_DASHBOARD = "/admin/queues";

/**
 * bull-board at /admin/queues for admins: every route the plugin registers is stamped with admin
 * access here, so the auth hook guards its pages, static files and actions alike.
 */
export function adminQueueRoutes(app: FastifyInstance, queues: Queues) {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(QUEUE_DASHBOARD);
  createBullBoard({
    queues: Object.values(queues).map((q) => new BullMQAdapter(q)),
    // @bull-board/fastify pins its own copy of @bull-board/api: same shape, distinct private fields.
    serverAdapter: serverAdapter as unknown as Parameters<typeof createBullBoard>[0]["serverAdapter"],
    options: { uiConfig: { boardTitle: "testimony queues" } },
  });
  app.register(async (scope) => {
    scope.addHook("onRoute", (r: RouteOptions) => {
      r.config = { ...(r.config as object), access: { auth: "admin", permission: "users:admin" } };
    });
    await scope.register(serverAdapter.registerPlugin(), { prefix: QUEUE_DASHBOARD });
  });
}
