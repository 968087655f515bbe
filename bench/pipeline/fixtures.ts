import { readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseCsv } from "csv-parse/sync";
import { createCampaign } from "../../src/app/campaigns.service.js";
import { addUser } from "../../src/app/users.service.js";
import type { Campaign } from "../../src/domain/campaign.js";
import type { Narrative } from "../../src/domain/narrative.js";
import type { Quote } from "../../src/domain/quote.js";
import type { Speaker } from "../../src/domain/speaker.js";
import { ASSETS_DIR } from "../../src/paths.js";
import type { Store } from "../../src/store/store.js";
import { aQuote, aSpeaker, saveAll } from "../../test/support/builders.js";

const SAMPLE = path.join(ASSETS_DIR, "sample");
export const STAFF = "bench-staff";
export const REVIEWER = "bench-reviewer";

type SampleRow = {
  text: string;
  locale: string;
  narrative: Narrative;
  source_title: string;
  source_publisher: string;
  source_published_at: string;
};

function sampleRows(): SampleRow[] {
  return parseCsv(readFileSync(path.join(SAMPLE, "quotes.csv"), "utf8"), {
    columns: true,
    skip_empty_lines: true,
  }) as SampleRow[];
}

export const speakerId = (i: number) => `bench-speaker-${String(i + 1).padStart(2, "0")}`;

/** `n` speakers: mostly pseudonyms, every fourth anonymous (no consent is needed for either). */
export function benchSpeakers(n = 50): Speaker[] {
  return Array.from({ length: n }, (_, i) =>
    aSpeaker(speakerId(i), {
      pseudonym: `A former fighter, voice ${i + 1}`,
      attribution: i % 4 === 3 ? "anonymous" : "pseudonym",
    }),
  );
}

/**
 * `n` vetted quotes from assets/sample/quotes.csv, English and Arabic alternating in blocks as the file
 * has them, each with its own number and every third one with a second sentence of the same language,
 * spread round-robin over `speakers` speakers.
 */
export function benchQuotes(n = 500, speakers = 50): Quote[] {
  const rows = sampleRows();
  return Array.from({ length: n }, (_, i) => {
    const base = rows[i % rows.length]!;
    const sameLocale = rows.filter((r) => r.locale === base.locale);
    const second = sameLocale[(i * 7 + 3) % sameLocale.length]!;
    const extra = i % 3 === 1 && second.text !== base.text ? ` ${second.text}` : "";
    return aQuote(`bench-q-${String(i + 1).padStart(4, "0")}`, speakerId(i % speakers), {
      text: `${base.text}${extra} (${i + 1})`,
      locale: base.locale,
      narrative: base.narrative,
      source: {
        title: base.source_title,
        publisher: base.source_publisher,
        publishedAt: base.source_published_at,
      },
    });
  });
}

/**
 * The sample campaign (4 formats, 3 text variants, gradient brand with the sample logo) under `id`,
 * with an exposure cap high enough to drop everything in one bundle and a schedule that cannot fire
 * while the bench runs (1 January only).
 */
export async function benchCampaign(store: Store, id: string): Promise<Campaign> {
  const raw = JSON.parse(readFileSync(path.join(SAMPLE, "campaign.json"), "utf8")) as Record<string, unknown>;
  const brand = raw.brand as Record<string, unknown>;
  const { campaign } = await createCampaign(
    store,
    {
      ...raw,
      id,
      name: `Bench ${id}`,
      brand: { ...brand, logo: path.join(SAMPLE, String(brand.logo)) },
      schedule: { cron: "0 9 1 1 *", timeZone: "Asia/Baghdad" },
      exposure: { maxPerSpeakerPerDrop: 1000 },
    },
    STAFF,
  );
  return campaign;
}

/** Speakers, quotes and the two users (staff queues, reviewer approves: four eyes). */
export async function seed(store: Store, opts: { quotes?: number; speakers?: number } = {}) {
  const speakers = benchSpeakers(opts.speakers ?? 50);
  const quotes = benchQuotes(opts.quotes ?? 500, speakers.length);
  await saveAll(store, { speakers, quotes });
  const staff = await addUser(store, STAFF, ["staff"], "bench");
  const reviewer = await addUser(store, REVIEWER, ["reviewer"], "bench");
  return { speakers, quotes, staffToken: staff.token, reviewerToken: reviewer.token };
}
