import { randomUUID } from "node:crypto";
import cookie from "@fastify/cookie";
import formbody from "@fastify/formbody";
import Fastify, { type FastifyInstance, type FastifyRequest, type RouteOptions } from "fastify";
import { createSessionStore } from "../store/session.store.js";
import type { RouteConfig } from "./access.js";
import { adminQueueRoutes } from "./admin-queues.js";
import { registerAuth } from "./auth.js";
import type { AppDeps, HttpDeps } from "./deps.js";
import { registerErrorHandlers } from "./errors.js";
import { healthRoutes } from "./health.js";
import { strictJsonBodies } from "./json-body.js";
import { metricsRoutes } from "./metrics.js";
import { openapiRoutes } from "./openapi.js";
import { loginRoutes } from "./review/login.routes.js";
import { loadPages } from "./review/pages.js";
import { reviewActionRoutes } from "./review/review-actions.routes.js";
import { reviewPageRoutes } from "./review/review-page.routes.js";
import { adminRoutes } from "./routes/admin.routes.js";
import { bundlesRoutes } from "./routes/bundles.routes.js";
import { campaignsRoutes } from "./routes/campaigns.routes.js";
import { downloadRoutes } from "./routes/download.routes.js";
import { outputsRoutes } from "./routes/outputs.routes.js";
import { previewRoutes } from "./routes/preview.routes.js";
import { quotesRoutes } from "./routes/quotes.routes.js";
import { securityHeaders } from "./security-headers.js";
import { registerRateLimit, tokenThrottle } from "./token-throttle.js";
import { workspaceRoutes } from "./workspace/workspace.routes.js";
import { useZod } from "./zod.js";

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** A caller's X-Request-Id is kept when it is sane, so one id follows a request across services. */
function genReqId(req: { headers: FastifyRequest["headers"] }): string {
  const given = req.headers["x-request-id"];
  return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
}

/** Every route must say who may call it; a route without `config.access` stops the app from starting. */
function requireDeclaredAccess(app: FastifyInstance) {
  const routes: RouteOptions[] = [];
  app.addHook("onRoute", (r: RouteOptions) => {
    routes.push(r);
  });
  app.addHook("onReady", async () => {
    const missing = routes.filter((r) => !(r.config as RouteConfig | undefined)?.access);
    if (missing.length) {
      throw new Error(
        `routes without config.access: ${missing.map((r) => `${r.method} ${r.url}`).join(", ")}`,
      );
    }
  });
}

/**
 * The whole HTTP side: API, review page, queue dashboard, health, metrics, OpenAPI. Not listening yet.
 * Only hooks and handlers are set synchronously here; every route is registered inside a plugin, so an
 * onRoute hook added right after buildApp() (as the tests do) still sees every route.
 */
export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.log,
    genReqId,
    bodyLimit: 10 * 1024 * 1024,
    routerOptions: { ignoreTrailingSlash: true },
  }) as unknown as FastifyInstance;

  useZod(app);
  registerErrorHandlers(app);
  strictJsonBodies(app);
  openapiRoutes(app);
  requireDeclaredAccess(app);
  securityHeaders(app);
  registerRateLimit(app, deps.store);
  healthRoutes(app, deps.store);
  metricsRoutes(app, deps);

  app.register(cookie);
  app.register(formbody);
  // Auth hooks need the cookie parser's hook to have run first, so they live in this child context.
  app.register(async (scope) => {
    const http: HttpDeps = {
      ...deps,
      sessions: createSessionStore(deps.store),
      throttle: tokenThrottle(scope, deps.web?.tokenLimits),
      secureCookies: deps.web?.publicUrl?.startsWith("https:") ? true : "auto",
    };
    registerAuth(scope, http);
    quotesRoutes(scope, deps);
    campaignsRoutes(scope, deps);
    previewRoutes(scope, deps);
    outputsRoutes(scope, deps);
    adminRoutes(scope, deps);
    bundlesRoutes(scope, deps);
    downloadRoutes(scope, deps);
    const pages = loadPages();
    loginRoutes(scope, http, pages);
    reviewPageRoutes(scope, http, pages);
    reviewActionRoutes(scope, http);
    workspaceRoutes(scope, http, pages);
    adminQueueRoutes(scope, deps.queues);
  });
  return app;
}
