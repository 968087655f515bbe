import type { Command } from "commander";
import { AppError } from "../domain/errors.js";
import { OUTPUT_STATES } from "../domain/vocabulary.js";
import type { CliContext } from "./context.js";
import { oneOf, positiveInt } from "./parse.js";
import { table } from "./table.js";

export function registerReviewCommands(program: Command, ctx: CliContext) {
  const users = program
    .command("users")
    .description("accounts, roles and API tokens (operator commands: whoever holds the Redis URL)");
  users
    .command("add <name>")
    .description("add an account; prints its API token once (only a hash is kept)")
    .requiredOption("--role <role...>", "staff | reviewer | admin, several allowed (required)")
    .action(async (name: string, o: { role: string[] }) => {
      const { addUser } = await import("../app/users.service.js");
      const roles = o.role.flatMap((r) => r.split(",")).filter(Boolean);
      const actor = await ctx.operator();
      const { user, token } = await addUser(await ctx.store(), name, roles, actor);
      ctx.print(`${user.id} (${user.roles.join(", ")}) token: ${token}`);
      ctx.print("Keep the token now: it is not shown again.");
    });
  users
    .command("list")
    .description("list accounts and their roles")
    .option("--json", "print JSON")
    .action(async (o: { json?: boolean }) => {
      const list = (await (await ctx.store()).users.list()).map(({ tokenHash, tokenSalt, ...u }) => u);
      if (o.json) return ctx.json(list);
      ctx.print(
        table(
          ["NAME", "ROLES", "CREATED", "REVOKED"],
          list.map((u) => [u.id, u.roles.join(","), u.createdAt, u.revokedAt ?? ""]),
        ),
      );
    });
  users
    .command("token <name>")
    .description("issue a new token for an account (the old one stops working); printed once")
    .action(async (name: string) => {
      const { rotateToken } = await import("../app/users.service.js");
      const actor = await ctx.operator();
      const token = await rotateToken(await ctx.store(), name, actor);
      ctx.print(`${name.toLowerCase()} token: ${token}`);
    });
  users
    .command("revoke <name>")
    .description("revoke an account: its token stops working at once")
    .action(async (name: string) => {
      const { revokeUser } = await import("../app/users.service.js");
      const actor = await ctx.operator();
      const u = await revokeUser(await ctx.store(), name, actor);
      ctx.print(`${u.id}: revoked at ${u.revokedAt}`);
    });

  const review = program.command("review").description("approve or reject rendered outputs");
  review
    .command("list")
    .description("outputs in review (or another --status), oldest queued first, one page at a time")
    .option("--campaign <id>", "only this campaign")
    .option("--status <status>", `${OUTPUT_STATES.join("|")}`, "in_review")
    .option("--limit <n>", "outputs per page", "100")
    .option("--cursor <cursor>", "the next page, as printed after the last one")
    .option("--json", "print JSON: { items, nextCursor, total }")
    .action(
      async (o: { campaign?: string; status: string; limit: string; cursor?: string; json?: boolean }) => {
        const status = oneOf("status", o.status, OUTPUT_STATES);
        const limit = positiveInt("limit", o.limit);
        const { pageOutputs } = await import("../app/review.service.js");
        // One page through the sorted indexes: cost grows with the page, not with everything stored.
        const page = await pageOutputs(
          await ctx.store(),
          { campaignId: o.campaign, status },
          { limit, cursor: o.cursor },
        );
        if (o.json) return ctx.json(page);
        ctx.print(
          table(
            ["ID", "STATUS", "CAMPAIGN", "QUOTE", "LOCALE", "FORMAT", "QUEUED BY", "LAST DECISION", "NOTE"],
            page.items.map((x) => {
              const d = x.decisions.at(-1);
              return [
                x.id,
                x.status,
                x.campaignId,
                x.quoteId,
                x.locale,
                x.format,
                x.queuedBy,
                d ? `${d.decision} by ${d.by}` : "",
                [
                  x.failure ? `${x.failure.reason}: ${x.failure.message}` : "",
                  ...x.missedDrops.map((s) => `missed drop ${s}`),
                ]
                  .filter(Boolean)
                  .join("; "),
              ];
            }),
            48,
          ),
        );
        if (page.nextCursor) {
          ctx.print(`${page.items.length} of ${page.total}; next page: --cursor ${page.nextCursor}`);
        }
      },
    );
  review
    .command("approve <ids...>")
    .description("approve outputs in review (not your own: four eyes)")
    .option("--comment <text>", "optional note")
    .action(async (ids: string[], o: { comment?: string }) => {
      const { decide } = await import("../app/review.service.js");
      const reviewer = await ctx.actor("review");
      const store = await ctx.store();
      const failures: AppError[] = [];
      for (const id of ids) {
        try {
          const out = await decide(store, id, "approved", reviewer, o.comment);
          ctx.print(`${out.id}: approved by ${reviewer}`);
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          failures.push(err);
          ctx.io.err(`${id}: ${err.message}\n`);
        }
      }
      if (failures.length === 0) return;
      // One id: its own error (so an unknown id exits as not_found does everywhere); several: a summary.
      if (ids.length === 1) throw failures[0]!;
      throw new AppError("invalid_state", `${failures.length} of ${ids.length} not approved`);
    });
  review
    .command("reject <id>")
    .description("reject an output in review, saying why")
    .requiredOption("--comment <text>", "why (required)")
    .action(async (id: string, o: { comment: string }) => {
      const { decide } = await import("../app/review.service.js");
      const reviewer = await ctx.actor("review");
      const out = await decide(await ctx.store(), id, "rejected", reviewer, o.comment);
      ctx.print(`${out.id}: rejected by ${reviewer}`);
    });
}
