import type { Command } from "commander";
import { decide, listOutputs } from "../app/review.service.js";
import { actingUser, addUser, revokeUser, rotateToken } from "../app/users.service.js";
import { AppError } from "../domain/errors.js";
import type { CliContext } from "./context.js";
import { table } from "./table.js";

export function registerReviewCommands(program: Command, ctx: CliContext) {
  const users = program.command("users").description("users, roles and API tokens");
  users
    .command("add <name>")
    .description("add a user; prints its API token once (only a hash is kept)")
    .requiredOption("--role <role...>", "staff | reviewer | admin (several allowed)")
    .option("--as <user>", "who adds", "cli")
    .action(async (name: string, o: { role: string[]; as: string }) => {
      const roles = o.role.flatMap((r) => r.split(",")).filter(Boolean);
      const { user, token } = await addUser(await ctx.store(), name, roles, o.as);
      ctx.print(`${user.id} (${user.roles.join(", ")}) token: ${token}`);
      ctx.print("Keep the token now: it is not shown again.");
    });
  users
    .command("list")
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
    .description("issue a new token for a user (the old one stops working); printed once")
    .option("--as <user>", "who rotates", "cli")
    .action(async (name: string, o: { as: string }) => {
      ctx.print(`${name} token: ${await rotateToken(await ctx.store(), name, o.as)}`);
    });
  users
    .command("revoke <name>")
    .option("--as <user>", "who revokes", "cli")
    .action(async (name: string, o: { as: string }) => {
      const u = await revokeUser(await ctx.store(), name, o.as);
      ctx.print(`${u.id}: revoked at ${u.revokedAt}`);
    });

  const review = program.command("review").description("approve or reject rendered outputs");
  review
    .command("list")
    .description("outputs in review (or another --status)")
    .option("--campaign <id>", "only this campaign")
    .option("--status <status>", "in_review by default", "in_review")
    .option("--json", "print JSON")
    .action(async (o: { campaign?: string; status: string; json?: boolean }) => {
      const list = await listOutputs(await ctx.store(), {
        campaignId: o.campaign,
        status: o.status as never,
      });
      if (o.json) return ctx.json(list);
      ctx.print(
        table(
          ["ID", "STATUS", "CAMPAIGN", "QUOTE", "LOCALE", "FORMAT", "QUEUED BY", "LAST DECISION", "NOTE"],
          list.map((x) => {
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
    });
  review
    .command("approve <ids...>")
    .requiredOption("--as <user>", "the reviewer")
    .option("--comment <text>", "optional note")
    .action(async (ids: string[], o: { as: string; comment?: string }) => {
      const store = await ctx.store();
      await actingUser(store, o.as, "review");
      let failed = 0;
      for (const id of ids) {
        try {
          const out = await decide(store, id, "approved", o.as, o.comment);
          ctx.print(`${out.id}: approved by ${o.as}`);
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          failed++;
          ctx.io.err(`${id}: ${err.message}\n`);
        }
      }
      if (failed) throw new AppError("invalid_state", `${failed} of ${ids.length} not approved`);
    });
  review
    .command("reject <id>")
    .requiredOption("--as <user>", "the reviewer")
    .requiredOption("--comment <text>", "why")
    .action(async (id: string, o: { as: string; comment: string }) => {
      const store = await ctx.store();
      await actingUser(store, o.as, "review");
      const out = await decide(store, id, "rejected", o.as, o.comment);
      ctx.print(`${out.id}: rejected by ${o.as}`);
    });
}
