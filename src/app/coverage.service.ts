import type { Campaign, Format } from "../domain/campaign.js";
import { notFound } from "../domain/errors.js";
import type { Narrative } from "../domain/narrative.js";
import type { Store } from "../store/store.js";

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

/** Which narratives × languages × formats a campaign has material for, and which it lacks. */
export async function coverage(store: Store, campaignId: string): Promise<Coverage> {
  const found = await store.campaigns.get(campaignId);
  if (!found) throw notFound("campaign", campaignId);
  const c: Campaign = found.value;
  const vetted = await store.quotes.list(["state:vetted"]);
  const outputs = await store.outputs.list([`campaign:${campaignId}`]);
  const cells: CoverageCell[] = [];
  for (const narrative of c.narratives) {
    for (const locale of c.locales) {
      const quotes = vetted.filter((q) => q.narrative === narrative && q.locale === locale).length;
      for (const format of c.formats) {
        const mine = outputs.filter(
          (o) => o.narrative === narrative && o.locale === locale && o.format === format,
        );
        const approved = mine.filter((o) => o.status === "approved").length;
        const exported = mine.filter((o) => o.status === "exported").length;
        cells.push({
          narrative,
          locale,
          format,
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
