import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { type Campaign, campaignInputSchema } from "../../src/domain/campaign.js";
import { directionOf } from "../../src/domain/locale.js";
import type { Output, OutputState } from "../../src/domain/output.js";
import type { Quote } from "../../src/domain/quote.js";
import type { Speaker } from "../../src/domain/speaker.js";
import { sha256 } from "../../src/render/files.js";
import type { Store } from "../../src/store/store.js";

// The drills' own small builders (not test/support's, which other work may change under us).
export const CAMPAIGN_ID = "drill-campaign";
const AT = "2026-11-01T10:00:00.000Z";

export function campaign(over: Partial<Campaign> = {}): Campaign {
  const input = campaignInputSchema.parse({
    id: CAMPAIGN_ID,
    name: "Fault drill",
    audience: { region: "UK", description: "drill" },
    locales: ["en"],
    narratives: ["infighting", "brutality", "corruption", "disillusionment"],
    formats: ["square"],
    brand: { background: "#102030", text: "#ffffff", accent: "#e0a526" },
    hashtags: ["#WhyTheyLeft"],
    // Far from any real slot: a scheduler running in a drill must not fire an export of its own.
    schedule: { cron: "0 9 1 1 *", timeZone: "UTC" },
    exposure: { maxPerSpeakerPerDrop: 1000 },
  });
  return { ...input, createdAt: AT, createdBy: "drill", updatedAt: AT, ...over };
}

export function speaker(id: string): Speaker {
  return { id, pseudonym: `Pseudonym ${id}`, attribution: "pseudonym", private: {}, redactionTerms: [] };
}

const LINES = [
  "They told us it was a holy war. It was a war for money.",
  "The emirs lived in villas while we slept in the dirt.",
  "I saw brothers kill brothers over a car.",
  "Nothing was like the videos. Nothing.",
  "The people we were told to protect were the ones we robbed.",
];

export function quote(id: string, speakerId: string, i: number): Quote {
  return {
    id,
    speakerId,
    text: `${LINES[i % LINES.length]} (${i + 1})`,
    locale: "en",
    narrative: (["corruption", "brutality", "infighting", "disillusionment"] as const)[i % 4]!,
    source: { title: "Victims, Perpetrators, Assets", publisher: "ICSR", publishedAt: "2015-09-21" },
    vetting: { state: "vetted", by: "vetter", at: AT },
    createdAt: AT,
    updatedAt: AT,
  };
}

/** The campaign, `speakers` speakers and `n` vetted quotes spread over them. */
export async function seed(
  store: Store,
  opts: { quotes: number; speakers?: number; campaign?: Partial<Campaign> },
) {
  const speakers = Array.from({ length: opts.speakers ?? 4 }, (_, i) => speaker(`s${i + 1}`));
  const quotes = Array.from({ length: opts.quotes }, (_, i) =>
    quote(`q${i + 1}`, speakers[i % speakers.length]!.id, i),
  );
  await store.campaigns.commit({ writes: [store.campaigns.write(campaign(opts.campaign))] });
  await store.speakers.commit({ writes: speakers.map((s) => store.speakers.write(s)) });
  await store.quotes.commit({ writes: quotes.map((q) => store.quotes.write(q)) });
  return { speakers, quotes };
}

let png: Buffer | undefined;

/**
 * Outputs as the render worker leaves them (a small real PNG and text files under dataDir), in
 * `status`; approved ones carry their approval. Lets review and export drills skip the card renderer.
 */
export async function outputsFor(
  store: Store,
  dataDir: string,
  quotes: Quote[],
  opts: { status: OutputState; queuedBy: string; approvedAt?: (i: number) => string },
): Promise<Output[]> {
  png ??= await sharp({ create: { width: 64, height: 64, channels: 3, background: "#336699" } })
    .png()
    .toBuffer();
  const dir = path.join(dataDir, "outputs", CAMPAIGN_ID);
  await mkdir(dir, { recursive: true });
  const outputs: Output[] = [];
  for (const [i, q] of quotes.entries()) {
    const id = `o-${q.id}-square`;
    const card = path.join("outputs", CAMPAIGN_ID, `${id}.png`);
    await writeFile(path.join(dataDir, card), png);
    const variants = { post: `“${q.text}” — Pseudonym ${q.speakerId}`, alt_text: `Quote card: ${q.text}` };
    const text: Record<string, string> = {};
    const sums: Record<string, string> = { [card]: sha256(png) };
    for (const [v, t] of Object.entries(variants)) {
      const rel = path.join("outputs", CAMPAIGN_ID, `${id}.${v}.txt`);
      await writeFile(path.join(dataDir, rel), t);
      text[v] = rel;
      sums[rel] = sha256(t);
    }
    const approvedAt = opts.approvedAt?.(i) ?? AT;
    outputs.push({
      id,
      campaignId: CAMPAIGN_ID,
      quoteId: q.id,
      speakerId: q.speakerId,
      locale: q.locale,
      direction: directionOf(q.locale),
      narrative: q.narrative,
      format: "square",
      encoding: "png",
      templateVersion: "t1",
      brandVersion: "b1",
      status: opts.status,
      queuedBy: opts.queuedBy,
      queuedAt: AT,
      updatedAt: AT,
      attempts: 1,
      files: { card, text },
      sha256: sums,
      variants,
      published: {
        attribution: `Pseudonym ${q.speakerId}`,
        citation: "ICSR, “Victims, Perpetrators, Assets”, 2015-09-21",
        quoteText: q.text,
      },
      decisions:
        opts.status === "approved" ? [{ decision: "approved", by: "reviewer0", at: approvedAt }] : [],
      missedDrops: [],
    });
  }
  await store.outputs.commit({ writes: outputs.map((o) => store.outputs.write(o)) });
  return outputs;
}

/** `output.<action>` audit entries per output id. */
export async function auditCounts(store: Store, action: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const a of await store.audit.list({ limit: Number.MAX_SAFE_INTEGER })) {
    if (a.action === action) counts.set(a.entity, (counts.get(a.entity) ?? 0) + 1);
  }
  return counts;
}

/** `{ value: n, ... }` histogram as "1×20, 2×1" style text. */
export function histogram(values: (string | number)[]): string {
  const h = new Map<string, number>();
  for (const v of values) h.set(String(v), (h.get(String(v)) ?? 0) + 1);
  return (
    [...h.entries()]
      .sort()
      .map(([k, n]) => `${k}×${n}`)
      .join(", ") || "none"
  );
}
