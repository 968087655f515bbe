import type { Command } from "commander";
import type { CliContext } from "./context.js";
import { table } from "./table.js";

export function registerSafetyCommands(program: Command, ctx: CliContext) {
  const speakers = program.commands.find((c) => c.name() === "speakers")!;
  speakers
    .command("withdraw <id>")
    .description("record withdrawn consent: unexported outputs are withdrawn, dropped ones become takedowns")
    .option("--reason <text>", "why (kept in the audit trail)")
    .action(async (id: string, o: { reason?: string }) => {
      const { withdrawConsent } = await import("../app/safety.service.js");
      const actor = await ctx.actor("speakers:consent");
      const r = await withdrawConsent(await ctx.store(), id, actor, o.reason);
      ctx.print(
        `${id}: consent withdrawn; ${r.withdrawn} outputs withdrawn, ${r.takedowns} takedowns for later bundles`,
      );
    });

  const redactions = program.command("redactions").description("terms that must never appear in any output");
  redactions
    .command("add <term>")
    .description("add a term: any output containing it fails, at render and again at export")
    .option("--speaker <id>", "only for this speaker's outputs (default: everyone's)")
    .action(async (term: string, o: { speaker?: string }) => {
      const { addRedaction } = await import("../app/safety.service.js");
      const actor = await ctx.actor("speakers:consent");
      const r = await addRedaction(await ctx.store(), term, actor, o.speaker);
      ctx.print(`${r.id}: ${r.created ? "added" : "exists already"}`);
    });

  redactions
    .command("list")
    .description(
      "stored terms, global and per speaker, with their ids (terms in speaker files are not listed)",
    )
    .option("--json", "print JSON")
    .action(async (o: { json?: boolean }) => {
      const { listRedactions } = await import("../app/safety.service.js");
      await ctx.actor("speakers:consent");
      const terms = await listRedactions(await ctx.store());
      if (o.json) return ctx.json(terms);
      ctx.print(
        terms.length
          ? table(
              ["ID", "TERM", "APPLIES TO", "ADDED"],
              terms.map((t) => [
                t.id,
                t.term,
                t.speakerId ? `${t.speakerPseudonym ?? "?"} (${t.speakerId})` : "everyone",
                `${t.createdAt.slice(0, 10)} by ${t.createdBy}`,
              ]),
            )
          : "(none)",
      );
    });
  redactions
    .command("remove <id>")
    .description(
      "remove a stored term by its id (from `redactions list`); the audit trail keeps who and when",
    )
    .action(async (id: string) => {
      const { removeRedaction } = await import("../app/safety.service.js");
      const actor = await ctx.actor("speakers:consent");
      const r = await removeRedaction(await ctx.store(), id, actor);
      ctx.print(`${r.id}: removed (${r.speakerId ? `speaker ${r.speakerId}` : "global"})`);
    });

  const bundles = program.commands.find((c) => c.name() === "bundles")!;
  bundles
    .command("takedowns <campaign>")
    .description("output ids every later bundle lists for takedown until acknowledged")
    .option("--json", "print JSON")
    .action(async (campaign: string, o: { json?: boolean }) => {
      const { pendingTakedowns } = await import("../app/safety.service.js");
      const ids = await pendingTakedowns(await ctx.store(), campaign);
      if (o.json) return ctx.json(ids);
      ctx.print(ids.length ? ids.join("\n") : "(none)");
    });
  bundles
    .command("ack-takedown <campaign> <ids...>")
    .description("acknowledge that dropped outputs were taken down: later bundles stop listing them")
    .action(async (campaign: string, ids: string[]) => {
      const { ackTakedowns } = await import("../app/safety.service.js");
      const actor = await ctx.actor("bundles:write");
      const n = await ackTakedowns(await ctx.store(), campaign, ids, actor);
      ctx.print(`${campaign}: ${n} takedowns acknowledged`);
    });

  const report = program.command("report").description("reports");
  report
    .command("coverage <campaign>")
    .description(
      "vetted quotes, approved and exported outputs by narrative × format, a column per campaign locale; empty cells marked",
    )
    .option("--json", "print JSON")
    .action(async (campaign: string, o: { json?: boolean }) => {
      const { coverage, coverageTable, COVERAGE_LEGEND } = await import("../app/coverage.service.js");
      const c = await coverage(await ctx.store(), campaign);
      if (o.json) return ctx.json(c);
      const { headers, rows } = coverageTable(c);
      ctx.print(`${table(headers, rows)}\n${COVERAGE_LEGEND}`);
    });
}
