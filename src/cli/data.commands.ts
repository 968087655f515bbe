import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { createCampaign, getCampaign, setPaused, updateCampaign } from "../app/campaigns.service.js";
import { importQuotes, importSpeakers } from "../app/import.service.js";
import { changeVetting, listQuotes } from "../app/quotes.service.js";
import { AppError } from "../domain/errors.js";
import { NARRATIVES, type Narrative } from "../domain/narrative.js";
import { VETTING_STATES, type VettingState } from "../domain/quote.js";
import { jsonErrorLine } from "../import/read-records.js";
import type { CliContext } from "./context.js";
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

function oneOf<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) {
    throw new AppError("invalid_input", `--${name} must be one of ${allowed.join(", ")}`, [
      { field: name, message: `must be one of ${allowed.join(", ")}` },
    ]);
  }
  return value as T;
}

export function registerDataCommands(program: Command, ctx: CliContext) {
  const speakers = program.command("speakers").description("speakers: who said it, how they may be named");
  speakers
    .command("import <file>")
    .description("import speakers from CSV (header row) or JSON; all or nothing")
    .option("--as <user>", "who is importing", "cli")
    .action(async (file: string, o: { as: string }) => {
      const s = await importSpeakers(await ctx.store(), await readInputFile(file), file, o.as);
      ctx.print(`${file}: ${s.created} created, ${s.updated} updated, ${s.unchanged} unchanged`);
    });

  const quotes = program.command("quotes").description("quotes: import, list and vet");
  quotes
    .command("import <file>")
    .description("import quotes from CSV (header row) or JSON; all or nothing; new quotes are pending")
    .option("--as <user>", "who is importing", "cli")
    .action(async (file: string, o: { as: string }) => {
      const s = await importQuotes(await ctx.store(), await readInputFile(file), file, o.as);
      ctx.print(`${file}: ${s.created} created, ${s.updated} updated, ${s.unchanged} unchanged`);
    });
  quotes
    .command("list")
    .description("list quotes, filtered")
    .option("--state <state>", VETTING_STATES.join("|"))
    .option("--narrative <narrative>", NARRATIVES.join("|"))
    .option("--locale <locale>", "BCP 47 tag, e.g. ar")
    .option("--speaker <id>", "speaker id")
    .option("--json", "print JSON")
    .action(
      async (o: {
        state?: string;
        narrative?: string;
        locale?: string;
        speaker?: string;
        json?: boolean;
      }) => {
        const list = await listQuotes(await ctx.store(), {
          state: oneOf<VettingState>("state", o.state, VETTING_STATES),
          narrative: oneOf<Narrative>("narrative", o.narrative, NARRATIVES),
          locale: o.locale,
          speakerId: o.speaker,
        });
        if (o.json) return ctx.json(list);
        ctx.print(
          table(
            ["ID", "STATE", "LOCALE", "NARRATIVE", "SPEAKER", "TEXT"],
            list.map((q) => [q.id, q.vetting.state, q.locale, q.narrative, q.speakerId, q.text]),
          ),
        );
      },
    );
  const vetting = (action: "vet" | "reject" | "retire", description: string, noteRequired = false) =>
    quotes
      .command(`${action} <id>`)
      .description(description)
      .requiredOption("--as <user>", "who decides")
      [noteRequired ? "requiredOption" : "option"]("--note <text>", "why")
      .action(async (id: string, o: { as: string; note?: string }) => {
        const q = await changeVetting(await ctx.store(), id, action, o.as, o.note);
        ctx.print(`${q.id}: ${q.vetting.state} by ${o.as}`);
      });
  vetting("vet", "mark a pending quote vetted: it may now be rendered");
  vetting("reject", "reject a pending quote", true);
  vetting("retire", "retire a vetted quote: no new outputs from it");

  const campaigns = program
    .command("campaigns")
    .description("campaigns: audience, locales, formats, schedule");
  const campaignFile = async (file: string) => {
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
    .description("create a campaign from a JSON file")
    .option("--as <user>", "who creates it", "cli")
    .action(async (file: string, o: { as: string }) => {
      const { campaign, created } = await createCampaign(
        await ctx.store(),
        withBaseDir(await campaignFile(file), file),
        o.as,
        file,
      );
      ctx.print(`${campaign.id}: ${created ? "created" : "unchanged"}`);
    });
  campaigns
    .command("update <file>")
    .description("replace a campaign's settings from a JSON file")
    .option("--as <user>", "who changes it", "cli")
    .action(async (file: string, o: { as: string }) => {
      const c = await updateCampaign(
        await ctx.store(),
        withBaseDir(await campaignFile(file), file),
        o.as,
        file,
      );
      ctx.print(`${c.id}: updated`);
    });
  for (const [name, paused] of [
    ["pause", true],
    ["resume", false],
  ] as const) {
    campaigns
      .command(`${name} <id>`)
      .description(`${name} a campaign's scheduled drops`)
      .option("--as <user>", "who", "cli")
      .action(async (id: string, o: { as: string }) => {
        const c = await setPaused(await ctx.store(), id, paused, o.as);
        ctx.print(`${c.id}: ${c.paused ? "paused" : "active"}`);
      });
  }
  campaigns
    .command("list")
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
    .action(async (id: string) => ctx.json(await getCampaign(await ctx.store(), id)));

  program
    .command("audit")
    .description("the append-only audit trail of every state change")
    .option("--entity <id>", "only this entity")
    .option("--limit <n>", "newest N entries", "200")
    .option("--json", "print JSON")
    .action(async (o: { entity?: string; limit: string; json?: boolean }) => {
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1) {
        throw new AppError("invalid_input", "--limit must be a positive whole number", [
          { field: "limit", message: "invalid" },
        ]);
      }
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
