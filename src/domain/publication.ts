import type { Campaign } from "./campaign.js";
import { catalogueFor } from "./catalogue/index.js";
import { type Direction, directionOf, languageOf } from "./locale.js";
import { NARRATIVE_LABELS, type Narrative } from "./narrative.js";
import type { Quote, Source } from "./quote.js";
import type { Speaker } from "./speaker.js";

/**
 * Everything a template, a card, a manifest or the review page may show about a quote. Built only
 * from publishable fields: a speaker's private fields and consent evidence never enter it, so no
 * template can leak them.
 */
export type PublicationView = {
  quote: { text: string; locale: string; language: string; direction: Direction };
  attribution: string;
  narrative: { id: Narrative; label: string };
  source: {
    title: string;
    publisher: string;
    url?: string;
    publishedAt: string;
    /** publishedAt as the quote's locale writes a date (Intl): "21 septembre 2015", "21. September 2015". */
    date: string;
    citation: string;
  };
  campaign: { name: string; hashtags: string[]; links: string[] };
};

/** The catalogue wording for an anonymous speaker in this locale's language; undefined when there is no catalogue. */
export function anonymousAttribution(locale: string): string | undefined {
  return catalogueFor(locale)?.anonymous;
}

export class AttributionRefused extends Error {
  constructor(
    readonly reason: "consent" | "attribution" | "attribution_locale",
    message: string,
  ) {
    super(message);
  }
}

type AttributionField = "pseudonym" | "description" | "publicName";

/**
 * A speaker's field as written for this locale: the exact tag in `localized`, then its language
 * (`ar-IQ` → `ar`), then the speaker's own fields when they are in that language. Never another
 * language's: undefined when the locale has none.
 */
export function speakerFieldIn(
  speaker: Speaker,
  field: AttributionField,
  locale: string,
): string | undefined {
  const lang = languageOf(locale);
  const localized = speaker.localized ?? {};
  const exact = Object.hasOwn(localized, locale) ? localized[locale]?.[field] : undefined;
  if (exact) return exact;
  const byLanguage = Object.entries(localized).find(([tag, entry]) => tag === lang && entry[field]);
  if (byLanguage) return byLanguage[1][field];
  return languageOf(speaker.locale ?? "en") === lang ? speaker[field] : undefined;
}

/** The locales in which a speaker has this field, for an error message. */
function localesWith(speaker: Speaker, field: AttributionField): string[] {
  const out = speaker[field] ? [speaker.locale ?? "en"] : [];
  for (const [tag, entry] of Object.entries(speaker.localized ?? {})) if (entry[field]) out.push(tag);
  return [...new Set(out)];
}

/** Whether consent for naming holds at `now` for this locale and channel. Null when it does; else why not. */
export function namedConsentProblem(
  speaker: Speaker,
  locale: string,
  now: Date,
  channel?: string,
): string | null {
  const c = speaker.consent;
  if (c?.state !== "granted") return "no granted consent is recorded for naming this speaker";
  if (c.expiresAt && Date.parse(c.expiresAt) <= now.getTime())
    return `consent to be named expired on ${c.expiresAt}`;
  const lang = languageOf(locale);
  if (c.scope.locales.length && !c.scope.locales.some((l) => l === locale || languageOf(l) === lang)) {
    return `consent to be named does not cover locale ${locale}`;
  }
  if (channel && c.scope.channels.length && !c.scope.channels.includes(channel)) {
    return `consent to be named does not cover channel ${channel}`;
  }
  return null;
}

export type AttributionOptions = {
  channel?: string;
  /** The campaign's `attributionFallbackLocale`: the only way a card may carry another locale's attribution. */
  fallbackLocale?: string;
};

/**
 * The attribution line in `locale`. Throws AttributionRefused: `consent` (withdrawn), `attribution`
 * (naming outside consent) or `attribution_locale` (nothing in this locale, and no fallback allowed).
 */
export function attributionFor(
  speaker: Speaker,
  locale: string,
  now: Date,
  opts: AttributionOptions = {},
): string {
  if (speaker.consent?.state === "withdrawn") {
    throw new AttributionRefused("consent", "the speaker has withdrawn consent");
  }
  const { channel, fallbackLocale } = opts;
  const inLocale = (lookup: (l: string) => string | undefined, what: string, have: string[]) => {
    const found = lookup(locale) ?? (fallbackLocale ? lookup(fallbackLocale) : undefined);
    if (found) return found;
    const fallback = fallbackLocale
      ? `, nor in the campaign's fallback locale ${fallbackLocale}`
      : "; add it, or name an attributionFallbackLocale on the campaign";
    const has = have.length ? ` (it has ${have.join(", ")})` : "";
    throw new AttributionRefused("attribution_locale", `no ${what} in ${locale}${has}${fallback}`);
  };
  switch (speaker.attribution) {
    case "anonymous":
      return inLocale(anonymousAttribution, "catalogue wording for an anonymous speaker", []);
    case "pseudonym":
      return inLocale(
        (l) => speakerFieldIn(speaker, "pseudonym", l),
        `pseudonym for speaker ${speaker.id}`,
        localesWith(speaker, "pseudonym"),
      );
    case "named": {
      // Consent is about where the card is published: the card's locale, whichever name it carries.
      const problem = namedConsentProblem(speaker, locale, now, channel);
      if (problem) throw new AttributionRefused("attribution", problem);
      return inLocale(
        (l) => speakerFieldIn(speaker, "publicName", l),
        `public name for speaker ${speaker.id}`,
        localesWith(speaker, "publicName"),
      );
    }
  }
}

/** A YYYY-MM-DD date in the locale's long form; the day itself, whatever the host's time zone. */
export function localDate(isoDay: string, locale: string): string {
  const at = new Date(`${isoDay}T00:00:00Z`);
  if (Number.isNaN(at.getTime())) return isoDay;
  return longDateFormat(locale).format(at);
}

// Building an Intl.DateTimeFormat costs ~0.2 ms, formatting with one a few µs: the render worker
// formats one date per card, so formatters are kept per locale (a handful; bounded all the same).
const longDateFormats = new Map<string, Intl.DateTimeFormat>();
function longDateFormat(locale: string): Intl.DateTimeFormat {
  let f = longDateFormats.get(locale);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { dateStyle: "long", timeZone: "UTC" });
    if (longDateFormats.size >= 100) longDateFormats.clear();
    longDateFormats.set(locale, f);
  }
  return f;
}

export function citation(source: Source): string {
  return `${source.publisher}, “${source.title}”, ${source.publishedAt}`;
}

export function publicationView(
  quote: Quote,
  speaker: Speaker,
  campaign: Campaign,
  now: Date,
): PublicationView {
  return {
    quote: {
      text: quote.text,
      locale: quote.locale,
      language: languageOf(quote.locale),
      direction: directionOf(quote.locale),
    },
    attribution: attributionFor(speaker, quote.locale, now, {
      fallbackLocale: campaign.attributionFallbackLocale,
    }),
    narrative: {
      id: quote.narrative,
      label: catalogueFor(quote.locale)?.narrative[quote.narrative] ?? NARRATIVE_LABELS[quote.narrative],
    },
    source: {
      title: quote.source.title,
      publisher: quote.source.publisher,
      url: quote.source.url,
      publishedAt: quote.source.publishedAt,
      date: localDate(quote.source.publishedAt, quote.locale),
      citation: citation(quote.source),
    },
    campaign: { name: campaign.name, hashtags: campaign.hashtags, links: campaign.links },
  };
}
