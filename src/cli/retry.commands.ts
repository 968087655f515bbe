import type { Command } from "commander";
import { AppError } from "../domain/errors.js";
import type { CliContext } from "./context.js";

/** `testimony retry OUTPUT | --campaign C [--reason R]`: failed outputs back to queued, with a fresh render job. */
export function registerRetryCommands(program: Command, ctx: CliContext) {
  program
    .command("retry [output]")
    .description(
      "retry a failed output, or every failed output of a campaign: back to queued with a fresh render job",
    )
    .option("--campaign <id>", "every failed output of this campaign")
    .option("--reason <text>", "why (kept in the audit stream)")
    .action(async (output: string | undefined, o: { campaign?: string; reason?: string }) => {
      if (!output === !o.campaign) {
        throw new AppError("invalid_input", "name one failed output, or --campaign C (not both)", [
          { field: "output", message: "give an output id or --campaign" },
        ]);
      }
      const actor = await ctx.actor("queue");
      const { retryOutputs } = await import("../app/retry-outputs.service.js");
      const rt = await ctx.runtime();
      const results = await retryOutputs(
        rt.store,
        rt.queues,
        output ? { ids: [output] } : { campaignId: o.campaign },
        actor,
        o.reason,
      );
      for (const r of results) {
        if (r.ok)
          ctx.print(
            `${r.id}: failed → queued${r.was ? ` (had failed: ${r.was.reason}: ${r.was.message})` : ""}`,
          );
        else if (!output) ctx.io.err(`${r.id}: ${r.error?.message}\n`);
      }
      const refused = results.filter((r) => !r.ok);
      if (output && refused[0]) {
        const code = refused[0].error?.code === "not_found" ? "not_found" : "invalid_state";
        throw new AppError(code, refused[0].error!.message);
      }
      if (!output) ctx.print(`${results.length - refused.length} retried, ${refused.length} refused`);
      if (refused.length)
        throw new AppError("invalid_state", `${refused.length} output(s) could not be retried`);
    });
}
