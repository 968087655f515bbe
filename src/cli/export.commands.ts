import path from "node:path";
import type { Command } from "commander";
import { AppError } from "../domain/errors.js";
import type { CliContext } from "./context.js";
import { exportReportLines } from "./export-report.js";
import { table } from "./table.js";

export function registerExportCommands(program: Command, ctx: CliContext) {
  program
    .command("export <campaign>")
    .description("drop the campaign's approved outputs as a bundle now (same code as a scheduled drop)")
    .requiredOption("--now", "export for the current moment as the slot (required)")
    .action(async (campaign: string) => {
      // This process only drops: its memory stays flat (src/app/export/memory.ts).
      (await import("../app/export/memory.js")).favourMemoryForDrop();
      const { exportSlot } = await import("../app/export.service.js");
      const { createStorage } = await import("../storage/index.js");
      const actor = await ctx.actor("bundles:write");
      const store = await ctx.store();
      const slot = new Date(Math.floor(Date.now() / 1000) * 1000);
      const r = await exportSlot(
        {
          store,
          dataDir: ctx.config.dataDir,
          exportDir: ctx.config.exportDir,
          ...createStorage(ctx.config),
          deliver: (await ctx.runtime()).queues.deliver,
          log: ctx.log,
        },
        { campaignId: campaign, slot, actor },
      );
      for (const line of exportReportLines(r)) ctx.print(line);
      if (r.status === "empty") {
        ctx.print(`${campaign}: nothing to drop for ${slot.toISOString()}; no bundle written`);
        return;
      }
      const b = r.bundle;
      ctx.print(`${b.id}: ${b.outputIds.length} outputs, ${b.takedowns.length} takedowns`);
      ctx.print(`  ${path.join(ctx.config.exportDir, b.dir, "bundle.zip")}`);
      ctx.print(`  sha256 ${b.zipSha256}`);
    });

  const bundles = program.command("bundles").description("exported bundles");
  bundles
    .command("list")
    .description("bundles written, oldest slot first")
    .option("--campaign <id>", "only this campaign")
    .option("--json", "print JSON")
    .action(async (o: { campaign?: string; json?: boolean }) => {
      const { bundleDeliveries } = await import("../app/deliver.service.js");
      const store = await ctx.store();
      const list = (await store.bundles.list(o.campaign ? [`campaign:${o.campaign}`] : [])).sort((a, b) =>
        a.slot.localeCompare(b.slot),
      );
      const delivery = await bundleDeliveries(store, list);
      if (o.json) return ctx.json(list.map((b) => ({ ...b, delivery: delivery.get(b.id) })));
      ctx.print(
        table(
          ["ID", "CAMPAIGN", "SLOT", "STATUS", "OUTPUTS", "TAKEDOWNS", "DELIVERY", "PATH"],
          list.map((b) => [
            b.id,
            b.campaignId,
            b.slot,
            b.status,
            String(b.outputIds.length),
            String(b.takedowns.length),
            deliveryCell(delivery.get(b.id)),
            path.join(ctx.config.exportDir, b.dir),
          ]),
          80,
        ),
      );
    });
  bundles
    .command("redeliver <id>")
    .description("deliver a complete bundle again: to every target whose delivery failed, or to --target")
    .option("--target <id...>", "these delivery targets (even if delivered)")
    .action(async (id: string, o: { target?: string[] }) => {
      const { redeliver } = await import("../app/deliver.service.js");
      const actor = await ctx.actor("bundles:write");
      const rt = await ctx.runtime();
      const r = await redeliver(rt.store, rt.queues.deliver, id, actor, o.target);
      ctx.print(`${r.bundleId}: delivery queued again to ${r.targets.join(", ")}`);
    });
  bundles
    .command("verify <path>")
    .description("recompute every checksum of a bundle (its folder or bundle.zip) against its manifest")
    .action(async (target: string) => {
      const { verifyBundle } = await import("../export/verify.js");
      let result: Awaited<ReturnType<typeof verifyBundle>>;
      try {
        result = await verifyBundle(target);
      } catch (err) {
        throw new AppError("invalid_input", `${target}: not a readable bundle: ${(err as Error).message}`);
      }
      for (const p of result.problems) ctx.io.err(`${p}\n`);
      if (!result.ok) throw new AppError("conflict", `${result.zip}: ${result.problems.length} problem(s)`);
      ctx.print(`${result.zip}: ok, ${result.entries} entries match the manifest`);
    });
}

/** "failed (webhook: answered 500)", "delivered", "-": the state, and what went wrong for a failed target. */
function deliveryCell(
  d:
    | { status: string; targets: { target: string; status: string; attempts: { error?: string }[] }[] }
    | undefined,
): string {
  if (!d || d.status === "none") return "-";
  if (d.status !== "failed") return d.status;
  const failed = d.targets.filter((t) => t.status === "failed");
  return `failed (${failed.map((t) => `${t.target}: ${t.attempts.length} attempts`).join("; ")})`;
}
