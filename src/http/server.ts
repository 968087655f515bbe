import type { FastifyInstance } from "fastify";
import type { Runtime } from "../runtime.js";
import { createStorage } from "../storage/index.js";
import { buildApp } from "./app.js";
import type { AppDeps } from "./deps.js";

export { buildApp } from "./app.js";

export type RunningServer = { app: FastifyInstance; url: string; close(): Promise<void> };

/** Builds the app and listens; port 0 picks a free port (tests). */
export async function startServer(deps: AppDeps & { host: string; port: number }): Promise<RunningServer> {
  const { host, port, ...rest } = deps;
  const app = buildApp(rest);
  const url = await app.listen({ host, port });
  return { app, url, close: () => app.close() };
}

/** For `testimony serve` and `testimony start`: the HTTP side over an open runtime. */
export async function serveRuntime(
  rt: Runtime,
  opts: { host: string; port: number },
): Promise<{ url: string; close(): Promise<void> }> {
  const { url, close } = await startServer({
    store: rt.store,
    queues: rt.queues,
    templates: rt.templates,
    dataDir: rt.config.dataDir,
    exportDir: rt.config.exportDir,
    ...createStorage(rt.config),
    log: rt.log,
    web: { publicUrl: rt.config.publicUrl, metricsToken: rt.config.metricsToken },
    host: opts.host,
    port: opts.port,
  });
  rt.log.info({ url, review: `${url}/review`, dashboard: `${url}/admin/queues` }, "HTTP server listening");
  return { url, close };
}
