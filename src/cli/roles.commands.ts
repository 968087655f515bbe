import type { Command } from "commander";
import type { Runtime } from "../runtime.js";
import type { CliContext } from "./context.js";
import { positiveInt } from "./parse.js";
import { collectGarbageLaterForRendering } from "./render-gc.js";
import { onShutdown, type Shutdown } from "./signals.js";

/**
 * The long-running roles: together in one process (`start`, the embedded default) or apart. Each
 * starts even while Redis is down: it logs one line per attempt to reach it, `/health` answers 503
 * meanwhile, and it begins its work by itself once Redis answers.
 */
export function registerRoleCommands(program: Command, ctx: CliContext) {
  // The owner closes in reverse: the server stops taking requests, the scheduler stops, then workers drain.
  const runScheduler = async (rt: Runtime) => {
    const { startScheduler } = await import("../schedule/scheduler.js");
    const scheduler = await startScheduler({
      store: rt.store,
      queues: rt.queues,
      log: rt.log,
      catchUpHours: ctx.config.catchUpHours,
    });
    ctx.owner.own("scheduler", scheduler, (s) => s.close());
  };
  /** Listens at once, so /health can say 503 while Redis is awaited. */
  const listen = async (rt: Runtime) => {
    const { serveRuntime } = await import("../http/server.js");
    const server = await serveRuntime(rt, { host: ctx.config.host, port: ctx.config.port });
    return server;
  };
  /** Waits for Redis (or a shutdown), then runs `begin`; the server, if any, closes first at the end. */
  const role = async (
    name: string,
    opts: { http: boolean },
    begin: (rt: Runtime) => Promise<void>,
  ): Promise<void> => {
    const shutdown: Shutdown = ctx.owner.own("signal handlers", onShutdown(), (s) => s.dispose());
    const rt = await ctx.roleRuntime();
    const server = opts.http ? await listen(rt) : undefined;
    try {
      const { waitForRedis } = await import("../runtime.js");
      if (!(await waitForRedis(rt, shutdown.signal))) return;
      await begin(rt);
      const at = server ? ` at ${ctx.config.publicUrl}/review (listening on ${server.url})` : "";
      rt.log.info({ role: name, url: server?.url }, `testimony ${name} is up${at}`);
      await shutdown.done(rt.log);
    } finally {
      await server?.close();
    }
  };

  program
    .command("start")
    .description("API, review page, render, export and deliver workers and the scheduler, in one process")
    .option(
      "--concurrency <n>",
      "renders in flight (3 keeps both cores busy while a render waits on I/O)",
      "3",
    )
    .action(async (o: { concurrency: string }) => {
      const concurrency = positiveInt("concurrency", o.concurrency);
      await role("start", { http: true }, async (rt) => {
        collectGarbageLaterForRendering();
        rt.startRenderWorker(concurrency);
        rt.startExportWorker();
        rt.startDeliverWorker();
        await runScheduler(rt);
      });
    });

  program
    .command("serve")
    .description("the HTTP API and review page only")
    .action(() => role("serve", { http: true }, async () => {}));

  program
    .command("schedule")
    .description("the drop scheduler only: enqueues export jobs on each campaign's cron schedule")
    .option("--with-export-worker", "also run an export worker in this process")
    .action((o: { withExportWorker?: boolean }) =>
      role("schedule", { http: false }, async (rt) => {
        if (o.withExportWorker) rt.startExportWorker();
        await runScheduler(rt);
      }),
    );
}
