import { writeFile } from "node:fs/promises";
import { SingleBar } from "cli-progress";
import type { Command } from "commander";
import { loadBrandLogo } from "../app/brand.service.js";
import { queueCampaign } from "../app/queue.service.js";
import { FORMAT_NAMES, type Format } from "../domain/campaign.js";
import { AppError } from "../domain/errors.js";
import { directionOf } from "../domain/locale.js";
import type { Output } from "../domain/output.js";
import { publicationView } from "../domain/publication.js";
import { createQueueEvents } from "../queues/queues.js";
import { renderCard } from "../render/card/card.render.js";
import type { Runtime } from "../runtime.js";
import type { CliContext } from "./context.js";
import { positiveInt } from "./parse.js";
import { waitForShutdown } from "./signals.js";

const FINISHED = new Set(["in_review", "failed", "approved", "rejected", "exported", "withdrawn"]);

export function registerPipelineCommands(program: Command, ctx: CliContext) {
  program
    .command("queue <campaign>")
    .description("create an output and a render job for every vetted quote × format of the campaign")
    .requiredOption("--as <user>", "who queues (they cannot approve these outputs)")
    .option("--quote <id...>", "only these quotes")
    .option("--no-wait", "return once queued, without waiting for the renders")
    .option("--timeout <seconds>", "give up waiting after this long", "600")
    .action(async (campaign: string, o: { as: string; quote?: string[]; wait: boolean; timeout: string }) => {
      const timeout = positiveInt("timeout", o.timeout);
      const rt = await ctx.runtime();
      const r = await queueCampaign(rt.store, rt.queues, {
        campaignId: campaign,
        actor: o.as,
        quoteIds: o.quote,
        templateVersion: rt.templates.version,
      });
      ctx.print(
        `${r.campaignId}: ${r.outputIds.length} outputs (${r.created} new, ${r.existing} existing), ${r.jobsAdded} render jobs added`,
      );
      if (!o.wait || r.outputIds.length === 0) return;
      if ((await rt.queues.render.getWorkersCount()) === 0) {
        ctx.io.err(
          "waiting for render workers: run `testimony work` or `testimony start` (or pass --no-wait)\n",
        );
      }
      const outputs = await waitForOutputs(rt, ctx, r.outputIds, timeout * 1000);
      const by = (s: string) => outputs.filter((x) => x.status === s).length;
      ctx.print(
        `rendered: ${outputs.filter((x) => FINISHED.has(x.status) && x.status !== "failed").length}, failed: ${by("failed")}`,
      );
      for (const f of outputs.filter((x) => x.status === "failed")) {
        ctx.print(`  ${f.id} ${f.quoteId} ${f.format}: ${f.failure?.reason}: ${f.failure?.message}`);
      }
      if (by("failed") > 0) process.exitCode = 1;
    });

  program
    .command("work")
    .description("run a worker until SIGTERM/SIGINT")
    .option("--queue <name>", "render | export", "render")
    .option(
      "--concurrency <n>",
      "renders in flight (3 keeps both cores busy while a render waits on I/O)",
      "3",
    )
    .action(async (o: { queue: string; concurrency: string }) => {
      if (o.queue !== "render" && o.queue !== "export") {
        throw new AppError("invalid_input", "--queue must be render or export", [
          { field: "queue", message: "must be render or export" },
        ]);
      }
      const rt = await ctx.runtime();
      if (o.queue === "render") rt.startRenderWorker(positiveInt("concurrency", o.concurrency));
      else rt.startExportWorker();
      rt.log.info({ queue: o.queue, concurrency: Number(o.concurrency) }, "worker started");
      await waitForShutdown(rt.log);
    });

  program
    .command("render-preview")
    .description("render one card without the queue (same code path), for designers")
    .requiredOption("--quote <id>", "quote id")
    .requiredOption("--format <format>", FORMAT_NAMES.join("|"))
    .requiredOption("--out <file>", "where to write the card")
    .option("--campaign <id>", "brand and hashtags from this campaign (default: the first)")
    .action(async (o: { quote: string; format: string; out: string; campaign?: string }) => {
      if (!FORMAT_NAMES.includes(o.format as Format)) {
        throw new AppError("invalid_input", `--format must be one of ${FORMAT_NAMES.join(", ")}`, [
          { field: "format", message: "unknown" },
        ]);
      }
      const store = await ctx.store();
      const quote = await store.quotes.get(o.quote);
      if (!quote) throw new AppError("not_found", `quote ${o.quote} does not exist`);
      const speaker = await store.speakers.get(quote.value.speakerId);
      const campaign = o.campaign
        ? await store.campaigns.get(o.campaign)
        : (await store.campaigns.getMany(await store.campaigns.ids()))[0];
      if (!campaign || !speaker)
        throw new AppError("not_found", "no campaign to take the brand from: create one first");
      const view = publicationView(quote.value, speaker.value, campaign.value, new Date());
      const card = await renderCard({
        format: o.format as Format,
        locale: quote.value.locale,
        direction: directionOf(quote.value.locale),
        quote: view.quote.text,
        attribution: view.attribution,
        hashtags: view.campaign.hashtags,
        brand: { ...campaign.value.brand, logoPng: await loadBrandLogo(store, campaign.value.brand) },
        encoding: campaign.value.encoding,
      });
      await writeFile(o.out, card.bytes);
      ctx.print(`${o.out}: ${card.width}×${card.height} ${card.encoding}, quote at ${card.fontSize}px`);
    });
}

/** Progress from QueueEvents, truth from the store: each event re-reads the outputs' states. */
async function waitForOutputs(
  rt: Runtime,
  ctx: CliContext,
  ids: string[],
  timeoutMs: number,
): Promise<Output[]> {
  const events = createQueueEvents("render", rt.redis, rt.store.keys);
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
        wake = resolve;
        setTimeout(resolve, 1000).unref();
      });
    }
  } finally {
    bar?.stop();
    await events.close();
  }
}
