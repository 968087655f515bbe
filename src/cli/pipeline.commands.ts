import type { Command } from "commander";
import { AppError } from "../domain/errors.js";
import type { Output } from "../domain/output.js";
import { FORMAT_NAMES, type Format } from "../domain/vocabulary.js";
import type { Runtime } from "../runtime.js";
import type { CliContext } from "./context.js";
import { oneOf, positiveInt } from "./parse.js";
import { collectGarbageLaterForRendering } from "./render-gc.js";
import { onShutdown } from "./signals.js";

const FINISHED = new Set(["in_review", "failed", "approved", "rejected", "exported", "withdrawn"]);

export function registerPipelineCommands(program: Command, ctx: CliContext) {
  program
    .command("queue <campaign>")
    .description("create an output and a render job for every vetted quote × format of the campaign")
    .option("--quote <id...>", "only these quotes")
    .option("--no-wait", "return once queued, without waiting for the renders")
    .option("--timeout <seconds>", "give up waiting after this long", "600")
    .action(async (campaign: string, o: { quote?: string[]; wait: boolean; timeout: string }) => {
      const timeout = positiveInt("timeout", o.timeout);
      const actor = await ctx.actor("queue");
      const { queueCampaign } = await import("../app/queue.service.js");
      const rt = await ctx.runtime();
      const r = await queueCampaign(rt.store, rt.queues, {
        campaignId: campaign,
        actor,
        quoteIds: o.quote,
        templateVersion: rt.templates.version,
      });
      ctx.print(
        `${r.campaignId}: ${r.outputIds.length} outputs (${r.created} new, ${r.existing} existing), ${r.jobsAdded} render jobs added`,
      );
      for (const s of r.skipped) ctx.print(`  skipped ${s.quoteId}: ${s.reason}`);
      if (!o.wait || r.outputIds.length === 0) return;
      if ((await rt.queues.render.getWorkersCount()) === 0) {
        ctx.io.err(
          "waiting for render workers: run `testimony work` or `testimony start` (or pass --no-wait)\n",
        );
      }
      const outputs = await waitForOutputs(rt, ctx, r.outputIds, timeout * 1000);
      const failed = outputs.filter((x) => x.status === "failed");
      ctx.print(`rendered: ${outputs.length - failed.length}, failed: ${failed.length}`);
      for (const f of failed) {
        ctx.print(`  ${f.id} ${f.quoteId} ${f.format}: ${f.failure?.reason}: ${f.failure?.message}`);
      }
      if (failed.length > 0) {
        throw new AppError("invalid_state", `${failed.length} of ${outputs.length} outputs failed to render`);
      }
    });

  program
    .command("work")
    .description("run a worker until SIGTERM/SIGINT (waits for Redis if it is not up yet)")
    .option("--queue <name>", "render | export | deliver", "render")
    .option(
      "--concurrency <n>",
      "renders in flight (3 keeps both cores busy while a render waits on I/O)",
      "3",
    )
    .action(async (o: { queue: string; concurrency: string }) => {
      const queue = oneOf("queue", o.queue, ["render", "export", "deliver"] as const)!;
      const concurrency = positiveInt("concurrency", o.concurrency);
      const shutdown = ctx.owner.own("signal handlers", onShutdown(), (s) => s.dispose());
      const rt = await ctx.roleRuntime();
      const { waitForRedis } = await import("../runtime.js");
      if (!(await waitForRedis(rt, shutdown.signal))) return;
      if (queue === "render") {
        collectGarbageLaterForRendering();
        rt.startRenderWorker(concurrency);
      } else if (queue === "deliver") rt.startDeliverWorker();
      else rt.startExportWorker();
      rt.log.info({ queue, concurrency }, "worker started");
      await shutdown.done(rt.log);
    });

  program
    .command("render-preview")
    .description("render one card without the queue, through the render worker's own checks")
    .requiredOption("--quote <id>", "quote id (required)")
    .requiredOption("--format <format>", `${FORMAT_NAMES.join("|")} (required)`)
    .requiredOption("--out <file>", "where to write the card (required)")
    .option("--campaign <id>", "brand and hashtags from this campaign (default: the first)")
    .action(async (o: { quote: string; format: string; out: string; campaign?: string }) => {
      const format = oneOf<Format>("format", o.format, FORMAT_NAMES)!;
      const { composeOutput, RenderFailure } = await import("../app/render.service.js");
      const { loadTextTemplates } = await import("../render/text/text.render.js");
      const { writeFileAtomic } = await import("../render/files.js");
      const store = await ctx.store();
      const quote = await store.quotes.get(o.quote);
      if (!quote) throw new AppError("not_found", `quote ${o.quote} does not exist`);
      const speaker = await store.speakers.get(quote.value.speakerId);
      if (!speaker) throw new AppError("not_found", `speaker ${quote.value.speakerId} does not exist`);
      const campaignId = o.campaign ?? (await store.campaigns.ids()).sort()[0];
      if (!campaignId)
        throw new AppError("not_found", "no campaign to take the brand from: create one first");
      const campaign = await store.campaigns.get(campaignId);
      if (!campaign) throw new AppError("not_found", `campaign ${campaignId} does not exist`);
      try {
        const { card } = await composeOutput(
          { store, templates: loadTextTemplates() },
          { quote: quote.value, speaker: speaker.value, campaign: campaign.value, format },
        );
        await writeFileAtomic(o.out, card.bytes);
        ctx.print(`${o.out}: ${card.width}×${card.height} ${card.encoding}, quote at ${card.fontSize}px`);
      } catch (err) {
        if (err instanceof RenderFailure)
          throw new AppError("invalid_state", `not rendered: ${err.reason}: ${err.message}`);
        throw err;
      }
    });
}

/** Progress from QueueEvents, truth from the store: each event re-reads the outputs' states. */
async function waitForOutputs(
  rt: Runtime,
  ctx: CliContext,
  ids: string[],
  timeoutMs: number,
): Promise<Output[]> {
  const { createQueueEvents } = await import("../queues/queues.js");
  const events = ctx.owner.own(
    "render queue events",
    createQueueEvents("render", rt.blockingConnection("queue events"), rt.store.keys),
    (e) => e.close(),
  );
  events.on("error", () => {}); // the store reads below fail with the reason instead
  const { SingleBar } = await import("cli-progress");
  const bar = ctx.io.isTTY ? new SingleBar({ format: "rendering [{bar}] {value}/{total}" }) : undefined;
  bar?.start(ids.length, 0);
  let wake: () => void = () => {};
  const onEvent = () => wake();
  events.on("completed", onEvent);
  events.on("failed", onEvent);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const outputs = (await rt.store.outputs.getMany(ids)).map((v) => v.value);
      const done = outputs.filter((x) => FINISHED.has(x.status)).length;
      bar?.update(done);
      if (done === ids.length) return outputs;
      if (Date.now() > deadline)
        throw new AppError("conflict", `gave up waiting: ${done}/${ids.length} rendered`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    bar?.stop();
  }
}
