import type { Campaign, Format } from "../domain/campaign.js";
import { notFound } from "../domain/errors.js";
import type { Narrative } from "../domain/narrative.js";
import { outputCountField, quoteCountField, type Store } from "../store/store.js";

export type CoverageCell = {
  narrative: Narrative;
  locale: string;
  format: Format;
  vettedQuotes: number;
  approved: number;
  exported: number;
  empty: boolean;
};

export type Coverage = {
  campaignId: string;
  narratives: Narrative[];
  locales: string[];
  formats: Format[];
  cells: CoverageCell[];
};

/**
 * Which narratives × languages × formats a campaign has material for, and which it lacks. Read from
 * the counters the store keeps in the same commits that move quotes and outputs, so the cost follows
 * the campaign's matrix, not how many quotes and outputs are stored.
 */
export async function coverage(store: Store, campaignId: string): Promise<Coverage> {
  const found = await store.campaigns.get(campaignId);
  if (!found) throw notFound("campaign", campaignId);
  const c: Campaign = found.value;
  const [quoteCounts, outputCounts] = await Promise.all([
    store.quotes.counts("all"),
    store.outputs.counts(`campaign:${campaignId}`),
  ]);
  const n = (counts: Record<string, number>, field: string) => counts[field] ?? 0;
  const cells: CoverageCell[] = [];
  for (const narrative of c.narratives) {
    for (const locale of c.locales) {
      const quotes = n(quoteCounts, quoteCountField({ vetting: { state: "vetted" }, narrative, locale }));
      for (const format of c.formats) {
        const cell = { narrative, locale, format };
        const approved = n(outputCounts, outputCountField({ ...cell, status: "approved" }));
        const exported = n(outputCounts, outputCountField({ ...cell, status: "exported" }));
        cells.push({
          ...cell,
          vettedQuotes: quotes,
          approved,
          exported,
          empty: quotes + approved + exported === 0,
        });
      }
    }
  }
  return { campaignId, narratives: c.narratives, locales: c.locales, formats: c.formats, cells };
}
