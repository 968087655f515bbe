import type { Coverage } from "../../app/coverage.service.js";
import type { Campaign } from "../../domain/campaign.js";
import { FORMATS, TEXT_VARIANTS } from "../../domain/campaign.js";
import { languageOf } from "../../domain/locale.js";
import { NARRATIVES } from "../../domain/narrative.js";
import type { Output } from "../../domain/output.js";
import type { Quote } from "../../domain/quote.js";
import type { User } from "../../domain/user.js";

/**
 * Catalogue keys (src/templates/pages/i18n) for the words the page shows that come from data: the
 * template translates them with `{{t someKey}}`. The catalogue test checks every one exists.
 */
export const VARIANT_KEYS: Record<string, string> = {
  post: "variant.post",
  caption: "variant.caption",
  alt_text: "variant.alt_text",
};
export const DECISION_KEYS: Record<string, string> = {
  approved: "decision.approved",
  rejected: "decision.rejected",
};
export const NARRATIVE_KEYS = Object.fromEntries(NARRATIVES.map((n) => [n, `narrative.${n}`])) as Record<
  string,
  string
>;
/** A narrative the catalogue does not know is shown as its id. */
const narrativeKey = (n: string) => NARRATIVE_KEYS[n] ?? n;

const when = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

/** Only http(s) links become hrefs; escaping alone would not stop a javascript: URL. */
const safeUrl = (url: string | undefined) => (url && /^https?:\/\//i.test(url) ? url : undefined);

export type CardContext = {
  campaigns: Map<string, Campaign>;
  quotes: Map<string, Quote>;
  /** Other outputs of the same quote, for decisions taken on it before. */
  siblings: Map<string, Output[]>;
  user: User;
  canReview: boolean;
};

/** What one card on the review page shows: plain strings, escaped by the template. */
export function cardView(o: Output, ctx: CardContext) {
  const quote = ctx.quotes.get(o.quoteId);
  const size = FORMATS[o.format];
  const ownWork = o.queuedBy === ctx.user.id;
  const earlier = (ctx.siblings.get(o.quoteId) ?? [])
    .filter((s) => s.id !== o.id)
    .flatMap((s) =>
      s.decisions.map((d) => ({
        ...d,
        decisionKey: DECISION_KEYS[d.decision] ?? d.decision,
        atText: when(d.at),
        campaign: ctx.campaigns.get(s.campaignId)?.name ?? s.campaignId,
        format: s.format,
      })),
    )
    .sort((a, b) => b.at.localeCompare(a.at))
    .slice(0, 5);
  return {
    id: o.id,
    dir: o.direction,
    locale: o.locale,
    format: o.format,
    width: size.width,
    height: size.height,
    cardUrl: `/review/cards/${o.id}`,
    campaignName: ctx.campaigns.get(o.campaignId)?.name ?? o.campaignId,
    narrativeKey: narrativeKey(o.narrative),
    // What the card shows, as rendered; the quote's current text only if the render kept none.
    quoteText: o.published?.quoteText ?? quote?.text ?? "",
    attribution: o.published?.attribution ?? "",
    citation: o.published?.citation ?? (quote ? `${quote.source.publisher}, “${quote.source.title}”` : ""),
    sourceUrl: safeUrl(quote?.source.url),
    queuedBy: o.queuedBy,
    queuedAt: o.queuedAt,
    queuedAtText: when(o.queuedAt),
    decisions: o.decisions.map((d) => ({
      ...d,
      decisionKey: DECISION_KEYS[d.decision] ?? d.decision,
      atText: when(d.at),
    })),
    earlier,
    missedDrops: o.missedDrops,
    variants: TEXT_VARIANTS.filter((v) => o.variants?.[v] !== undefined).map((v) => ({
      name: v,
      labelKey: VARIANT_KEYS[v],
      text: o.variants?.[v],
      dir: o.direction,
      lang: languageOf(o.locale),
    })),
    ownWork,
    canDecide: ctx.canReview && !ownWork,
  };
}

export type Filters = { campaign?: string; locale?: string; narrative?: string };

/** Filter choices come from what is waiting, so no choice leads to an empty page. */
export function filterOptions(
  all: { campaignId: string; locale: string; narrative: string }[],
  campaigns: Map<string, Campaign>,
  f: Filters,
) {
  const uniq = (xs: string[]) => [...new Set(xs)].sort();
  return {
    campaigns: uniq(all.map((o) => o.campaignId)).map((v) => ({
      value: v,
      label: campaigns.get(v)?.name ?? v,
      selected: v === f.campaign,
    })),
    locales: uniq(all.map((o) => o.locale)).map((v) => ({ value: v, label: v, selected: v === f.locale })),
    narratives: uniq(all.map((o) => o.narrative)).map((v) => ({
      value: v,
      labelKey: narrativeKey(v),
      selected: v === f.narrative,
    })),
  };
}

/** Narrative × locale, summed over formats: where a campaign lacks material, at a glance. */
export function coveragePanel(c: Coverage, name: string) {
  return {
    name,
    locales: c.locales,
    rows: c.narratives.map((narrative) => ({
      narrativeKey: narrativeKey(narrative),
      cells: c.locales.map((locale) => {
        const cells = c.cells.filter((x) => x.narrative === narrative && x.locale === locale);
        const vetted = cells[0]?.vettedQuotes ?? 0;
        const approved = cells.reduce((n, x) => n + x.approved, 0);
        const exported = cells.reduce((n, x) => n + x.exported, 0);
        return { vetted, approved, exported, empty: vetted + approved + exported === 0 };
      }),
    })),
  };
}
