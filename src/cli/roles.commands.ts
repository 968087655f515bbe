import type { Command } from "commander";
import { serveRuntime } from "../http/server.js";
import type { Runtime } from "../runtime.js";
import { startScheduler } from "../schedule/scheduler.js";
import type { CliContext } from "./context.js";
import { positiveInt } from "./parse.js";
import { waitForShutdown } from "./signals.js";

/** The long-running roles: together in one process (`start`, the embedded default) or apart. */
export function registerRoleCommands(program: Command, ctx: CliContext) {
  // Cleanups run in reverse: the server stops taking requests, the scheduler stops, then workers drain.
  const runScheduler = async (rt: Runtime) => {
    const scheduler = await startScheduler({
      store: rt.store,
      queues: rt.queues,
      log: rt.log,
      catchUpHours: ctx.config.catchUpHours,
    });
    ctx.cleanups.push(() => scheduler.close());
  };
  const runServer = async (rt: Runtime) => {
    const server = await serveRuntime(rt, { host: ctx.config.host, port: ctx.config.port });
    ctx.cleanups.push(() => server.close());
    return server.url;
  };

  program
    .command("start")
    .description("API, review page, render and export workers and the scheduler, in one process")
    .option(
      "--concurrency <n>",
      "renders in flight (3 keeps both cores busy while a render waits on I/O)",
      "3",
    )
    .action(async (o: { concurrency: string }) => {
      const rt = await ctx.runtime();
      rt.startRenderWorker(positiveInt("concurrency", o.concurrency));
      rt.startExportWorker();
      await runScheduler(rt);
      const url = await runServer(rt);
      rt.log.info({ url }, `testimony is up: review page at ${url}/review`);
      await waitForShutdown(rt.log);
    });

  program
    .command("serve")
    .description("the HTTP API and review page only")
    .action(async () => {
      const rt = await ctx.runtime();
      rt.log.info({ url: await runServer(rt) }, "serving");
      await waitForShutdown(rt.log);
    });

  program
    .command("schedule")
    .description("the drop scheduler only: enqueues export jobs on each campaign's cron schedule")
    .option("--with-export-worker", "also run an export worker in this process")
    .action(async (o: { withExportWorker?: boolean }) => {
      const rt = await ctx.runtime();
      if (o.withExportWorker) rt.startExportWorker();
      await runScheduler(rt);
      rt.log.info("scheduler started");
      await waitForShutdown(rt.log);
    });
}
