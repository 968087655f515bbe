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

/** Legend printed under the text report. */
export const COVERAGE_LEGEND =
  "Each locale column: vetted quotes/approved outputs/exported outputs; EMPTY: none of the three.";

/**
 * The report as a table: a row per narrative × format and a column per campaign locale (en, ar, fr,
 * de, ru, tr, in the campaign's order), so a language a campaign lacks material in reads down one
 * column. Each cell is "vetted/approved/exported", or EMPTY.
 */
export function coverageTable(c: Coverage): { headers: string[]; rows: string[][] } {
  const at = new Map(c.cells.map((x) => [`${x.narrative}|${x.format}|${x.locale}`, x]));
  const rows: string[][] = [];
  for (const narrative of c.narratives) {
    for (const format of c.formats) {
      rows.push([
        narrative,
        format,
        ...c.locales.map((locale) => {
          const x = at.get(`${narrative}|${format}|${locale}`);
          return !x || x.empty ? "EMPTY" : `${x.vettedQuotes}/${x.approved}/${x.exported}`;
        }),
      ]);
    }
  }
  return { headers: ["NARRATIVE", "FORMAT", ...c.locales], rows };
}
