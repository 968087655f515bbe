import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { AppError } from "../domain/errors.js";
import type { Quote } from "../domain/quote.js";
import { NARRATIVES, VETTING_STATES } from "../domain/vocabulary.js";
import type { CliContext } from "./context.js";
import { oneOf, positiveInt } from "./parse.js";
import { table } from "./table.js";

export async function readInputFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new AppError(
      "invalid_input",
      `${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? err}`,
      [{ where: file, field: "file", message: "cannot read" }],
    );
  }
}

export function registerDataCommands(program: Command, ctx: CliContext) {
  const speakers = program.command("speakers").description("speakers: who said it, how they may be named");
  speakers
    .command("import <file>")
    .description("import speakers from CSV (header row) or JSON; all or nothing")
    .action(async (file: string) => {
      const { importSpeakers } = await import("../app/import.service.js");
      const actor = await ctx.actor("quotes:write");
      const s = await importSpeakers(await ctx.store(), await readInputFile(file), file, actor);
      ctx.print(`${file}: ${s.created} created, ${s.updated} updated, ${s.unchanged} unchanged`);
    });

  const quotes = program.command("quotes").description("quotes: import, list and vet");
  quotes
    .command("import <file>")
    .description("import quotes from CSV (header row) or JSON; all or nothing; new quotes are pending")
    .action(async (file: string) => {
      const { importQuotes } = await import("../app/import.service.js");
      const actor = await ctx.actor("quotes:write");
      const s = await importQuotes(await ctx.store(), await readInputFile(file), file, actor);
      ctx.print(`${file}: ${s.created} created, ${s.updated} updated, ${s.unchanged} unchanged`);
    });
  quotes
    .command("list")
    .description("quotes, oldest first, filtered, one page at a time (or --all pages, streamed)")
    .option("--state <state>", VETTING_STATES.join("|"))
    .option("--narrative <narrative>", NARRATIVES.join("|"))
    .option("--locale <locale>", "BCP 47 tag, e.g. ar")
    .option("--speaker <id>", "speaker id")
    .option("--limit <n>", "quotes per page (at most 500)", "50")
    .option("--cursor <cursor>", "the next page, as printed after the last one")
    .option("--all", "every page from the cursor (or the start), printed as each page arrives")
    .option("--json", "print JSON: { items, nextCursor, total }; with --all, one array of every quote")
    .action(
      async (o: {
        state?: string;
        narrative?: string;
        locale?: string;
        speaker?: string;
        limit: string;
        cursor?: string;
        all?: boolean;
        json?: boolean;
      }) => {
        const state = oneOf("state", o.state, VETTING_STATES);
        const narrative = oneOf("narrative", o.narrative, NARRATIVES);
        const limit = positiveInt("limit", o.limit);
        if (limit > 500) {
          throw new AppError("invalid_input", "--limit must be at most 500", [
            { field: "limit", message: "must be at most 500" },
          ]);
        }
        const { listQuotePage } = await import("../app/quotes.service.js");
        const store = await ctx.store();
        const filter = { state, narrative, locale: o.locale, speakerId: o.speaker };
        const read = (cursor: string | undefined) =>
          listQuotePage(store, filter, { limit, cursor, where: "--cursor" });
        const rows = (items: Quote[]) =>
          items.map((q) => [q.id, q.vetting.state, q.locale, q.narrative, q.speakerId, q.text]);
        const HEAD = ["ID", "STATE", "LOCALE", "NARRATIVE", "SPEAKER", "TEXT"];
        if (!o.all) {
          // One page through the sorted indexes: cost grows with the page, not with everything stored.
          const page = await read(o.cursor);
          if (o.json) return ctx.json(page);
          ctx.print(table(HEAD, rows(page.items)));
          if (page.nextCursor) {
            ctx.print(`${page.items.length} of ${page.total}; next page: --cursor ${page.nextCursor}`);
          }
          return;
        }
        // Every page, each printed before the next is read: memory holds one page, whatever the store.
        let cursor = o.cursor;
        let n = 0;
        let head = true;
        if (o.json) ctx.io.out("[");
        do {
          const page = await read(cursor);
          if (o.json) {
            const body = page.items.map((q) => JSON.stringify(q, null, 2)).join(",\n");
            if (body) ctx.io.out(`${n ? ",\n" : "\n"}${body}`);
          } else if (page.items.length) {
            // Each page is aligned on its own; the header comes once.
            const lines = table(HEAD, rows(page.items)).split("\n");
            ctx.print((head ? lines : lines.slice(1)).join("\n"));
            head = false;
          }
          n += page.items.length;
          cursor = page.nextCursor;
        } while (cursor && (await ctx.drained()));
        if (o.json) ctx.print(n ? "\n]" : "]");
        else if (head) ctx.print(table(HEAD, []));
      },
    );
  const vetting = (action: "vet" | "reject" | "retire", description: string, noteRequired = false) =>
    quotes
      .command(`${action} <id>`)
      .description(description)
      [noteRequired ? "requiredOption" : "option"]("--note <text>", noteRequired ? "why (required)" : "why")
      .action(async (id: string, o: { note?: string }) => {
        const { changeVetting } = await import("../app/quotes.service.js");
        const actor = await ctx.actor("quotes:write");
        const q = await changeVetting(await ctx.store(), id, action, actor, o.note);
        ctx.print(`${q.id}: ${q.vetting.state} by ${actor}`);
      });
  vetting("vet", "mark a pending quote vetted: it may now be rendered");
  vetting("reject", "reject a pending quote", true);
  vetting("retire", "retire a vetted quote: no new outputs from it");

  /** Webhook secrets are printed here, once: they are never shown again. */
  const printSecrets = (secrets: { target: string; url: string; secret: string }[]) => {
    for (const s of secrets) {
      ctx.print(`webhook ${s.target} (${s.url}) signing secret, shown only now: ${s.secret}`);
    }
  };
  const campaigns = program
    .command("campaigns")
    .description("campaigns: audience, locales, formats, schedule");
  const campaignFile = async (file: string) => {
    const { jsonErrorLine } = await import("../import/read-records.js");
    const text = (await readInputFile(file)).toString("utf8").replace(/^\uFEFF/, "");
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      const where = `${file}:${jsonErrorLine(text, err)}`;
      throw new AppError("invalid_input", `${where}: file: is not valid JSON: ${(err as Error).message}`, [
        { where, field: "file", message: "is not valid JSON" },
      ]);
    }
  };
  campaigns
    .command("create <file>")
    .description("create a campaign from a JSON file (see assets/sample/campaign.json)")
    .action(async (file: string) => {
      const { createCampaign } = await import("../app/campaigns.service.js");
      const actor = await ctx.actor("campaigns:write");
      const raw = withBaseDir(await campaignFile(file), file);
      const { campaign, created, newSecrets } = await createCampaign(await ctx.store(), raw, actor, file);
      ctx.print(`${campaign.id}: ${created ? "created" : "unchanged"}`);
      printSecrets(newSecrets);
    });
  campaigns
    .command("update <file>")
    .description("replace a campaign's settings from a JSON file; a paused campaign stays paused")
    .action(async (file: string) => {
      const { updateCampaign } = await import("../app/campaigns.service.js");
      const actor = await ctx.actor("campaigns:write");
      const raw = withBaseDir(await campaignFile(file), file);
      const c = await updateCampaign(await ctx.store(), raw, actor, file);
      ctx.print(`${c.id}: updated (${c.paused ? "paused" : "active"})`);
      printSecrets("newSecrets" in c ? c.newSecrets : []);
    });
  campaigns
    .command("rotate-secret <campaign> <target>")
    .description(
      "a new signing secret for a webhook target, printed once; the old one keeps signing beside it for 24 h",
    )
    .action(async (campaign: string, target: string) => {
      const { rotateWebhookSecret } = await import("../app/campaigns.service.js");
      const actor = await ctx.actor("campaigns:write");
      printSecrets([await rotateWebhookSecret(await ctx.store(), campaign, target, actor)]);
    });
  for (const [name, paused] of [
    ["pause", true],
    ["resume", false],
  ] as const) {
    campaigns
      .command(`${name} <id>`)
      .description(`${name} a campaign's scheduled drops`)
      .action(async (id: string) => {
        const { setPaused } = await import("../app/campaigns.service.js");
        const actor = await ctx.actor("campaigns:write");
        const c = await setPaused(await ctx.store(), id, paused, actor);
        ctx.print(`${c.id}: ${c.paused ? "paused" : "active"}`);
      });
  }
  campaigns
    .command("list")
    .description("list campaigns")
    .option("--json", "print JSON")
    .action(async (o: { json?: boolean }) => {
      const list = await (await ctx.store()).campaigns.list();
      if (o.json) return ctx.json(list);
      ctx.print(
        table(
          ["ID", "NAME", "LOCALES", "FORMATS", "SCHEDULE", "STATE"],
          list.map((c) => [
            c.id,
            c.name,
            c.locales.join(","),
            c.formats.join(","),
            `${c.schedule.cron} ${c.schedule.timeZone}`,
            c.paused ? "paused" : "active",
          ]),
        ),
      );
    });
  campaigns
    .command("show <id>")
    .description("print a campaign as JSON")
    .action(async (id: string) => {
      const { getCampaign } = await import("../app/campaigns.service.js");
      ctx.json(await getCampaign(await ctx.store(), id));
    });

  program
    .command("audit")
    .description("the append-only audit trail of every state change")
    .option("--entity <id>", "only this entity")
    .option("--limit <n>", "newest N entries", "200")
    .option("--json", "print JSON")
    .action(async (o: { entity?: string; limit: string; json?: boolean }) => {
      const limit = positiveInt("limit", o.limit);
      const entries = await (await ctx.store()).audit.list({ entity: o.entity, limit });
      if (o.json) return ctx.json(entries);
      ctx.print(
        table(
          ["AT", "ACTOR", "ACTION", "ENTITY", "FROM", "TO"],
          entries.map((e) => [e.at, e.actor, e.action, e.entity, e.from ?? "", e.to ?? ""]),
        ),
      );
    });
}

/** A relative logo path in a campaign file is relative to that file, not to the current directory. */
function withBaseDir(raw: unknown, file: string): unknown {
  if (raw && typeof raw === "object" && "brand" in raw) {
    const brand = (raw as { brand?: { logo?: unknown } }).brand;
    if (brand && typeof brand.logo === "string" && !path.isAbsolute(brand.logo)) {
      brand.logo = path.resolve(path.dirname(file), brand.logo);
    }
  }
  return raw;
}
