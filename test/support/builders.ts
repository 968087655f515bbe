import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { type Campaign, campaignInputSchema, type Format } from "../../src/domain/campaign.js";
import { directionOf } from "../../src/domain/locale.js";
import type { Output, OutputState } from "../../src/domain/output.js";
import type { Quote } from "../../src/domain/quote.js";
import type { Speaker } from "../../src/domain/speaker.js";
import { sha256 } from "../../src/render/files.js";
import type { Store } from "../../src/store/store.js";

const AT = "2026-11-01T10:00:00.000Z";

export function aCampaign(over: Partial<Campaign> = {}): Campaign {
  const input = campaignInputSchema.parse({
    id: "why-they-left",
    name: "Why They Left",
    audience: { region: "UK", description: "test" },
    locales: ["en", "ar"],
    narratives: ["infighting", "brutality", "corruption", "disillusionment"],
    formats: ["square"],
    brand: { background: "#102030", text: "#ffffff", accent: "#e0a526" },
    hashtags: ["#WhyTheyLeft"],
    schedule: { cron: "0 9 * * 1", timeZone: "Asia/Baghdad" },
    exposure: { maxPerSpeakerPerDrop: 50 },
  });
  return { ...input, createdAt: AT, createdBy: "staff1", updatedAt: AT, ...over };
}

export function aSpeaker(id: string, over: Partial<Speaker> = {}): Speaker {
  return {
    id,
    pseudonym: `Pseudonym ${id}`,
    // Tests render Arabic cards too; a speaker with no Arabic attribution would fail them (attribution_locale).
    localized: { ar: { pseudonym: `Pseudonym ${id}` } },
    attribution: "pseudonym",
    private: {},
    redactionTerms: [],
    ...over,
  };
}

export function aQuote(id: string, speakerId: string, over: Partial<Quote> = {}): Quote {
  return {
    id,
    speakerId,
    text: `Quote ${id}: this is not a holy war.`,
    locale: "en",
    narrative: "corruption",
    source: { title: "Victims, Perpetrators, Assets", publisher: "ICSR", publishedAt: "2015-09-21" },
    vetting: { state: "vetted", by: "vetter", at: AT },
    createdAt: AT,
    updatedAt: AT,
    ...over,
  };
}

export async function saveAll(
  store: Store,
  items: { campaigns?: Campaign[]; speakers?: Speaker[]; quotes?: Quote[] },
) {
  await store.campaigns.commit({ writes: (items.campaigns ?? []).map((c) => store.campaigns.write(c)) });
  await store.speakers.commit({ writes: (items.speakers ?? []).map((s) => store.speakers.write(s)) });
  await store.quotes.commit({ writes: (items.quotes ?? []).map((q) => store.quotes.write(q)) });
}

/**
 * An output as the render worker leaves it (a real PNG and text files under dataDir), moved to `status`
 * with an approval when approved. Lets export and review tests run without the card renderer.
 */
export async function anOutput(
  store: Store,
  dataDir: string,
  quote: Quote,
  opts: {
    campaignId?: string;
    format?: Format;
    status?: OutputState;
    approvedAt?: string;
    id?: string;
    queuedBy?: string;
  } = {},
): Promise<Output> {
  const campaignId = opts.campaignId ?? "why-they-left";
  const format = opts.format ?? "square";
  const id = opts.id ?? `o-${quote.id}-${format}`;
  const card = path.join("outputs", campaignId, `${id}.png`);
  const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#336699" } })
    .png()
    .toBuffer();
  await mkdir(path.join(dataDir, "outputs", campaignId), { recursive: true });
  await writeFile(path.join(dataDir, card), png);
  const variants = { post: `“${quote.text}” — ${quote.speakerId}`, alt_text: `Quote card: ${quote.text}` };
  const text: Record<string, string> = {};
  const sums: Record<string, string> = { [card]: sha256(png) };
  for (const [v, t] of Object.entries(variants)) {
    const rel = path.join("outputs", campaignId, `${id}.${v}.txt`);
    await writeFile(path.join(dataDir, rel), t);
    text[v] = rel;
    sums[rel] = sha256(t);
  }
  const status = opts.status ?? "approved";
  const approvedAt = opts.approvedAt ?? AT;
  const output: Output = {
    id,
    campaignId,
    quoteId: quote.id,
    speakerId: quote.speakerId,
    locale: quote.locale,
    direction: directionOf(quote.locale),
    narrative: quote.narrative,
    format,
    encoding: "png",
    templateVersion: "t1",
    brandVersion: "b1",
    status,
    queuedBy: opts.queuedBy ?? "staff1",
    queuedAt: AT,
    updatedAt: AT,
    attempts: 1,
    files: { card, text },
    sha256: sums,
    variants,
    published: {
      attribution: `Pseudonym ${quote.speakerId}`,
      citation: "ICSR, “Victims, Perpetrators, Assets”, 2015-09-21",
      quoteText: quote.text,
    },
    decisions: status === "approved" ? [{ decision: "approved", by: "reviewer1", at: approvedAt }] : [],
    missedDrops: [],
  };
  await store.outputs.commit({ writes: [store.outputs.write(output)] });
  return output;
}
