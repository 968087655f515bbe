import type { Campaign } from "./campaign.js";
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
  source: { title: string; publisher: string; url?: string; publishedAt: string; citation: string };
  campaign: { name: string; hashtags: string[]; links: string[] };
};

const ANONYMOUS: Record<string, string> = {
  en: "A former fighter",
  ar: "مقاتل سابق",
  fr: "Un ancien combattant",
  de: "Ein ehemaliger Kämpfer",
  tr: "Eski bir savaşçı",
  fa: "یک جنگجوی سابق",
  ur: "ایک سابق جنگجو",
};

export function anonymousAttribution(locale: string): string {
  return ANONYMOUS[languageOf(locale)] ?? ANONYMOUS.en!;
}

export class AttributionRefused extends Error {
  constructor(
    readonly reason: "consent" | "attribution",
    message: string,
  ) {
    super(message);
  }
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

export function attributionFor(speaker: Speaker, locale: string, now: Date, channel?: string): string {
  if (speaker.consent?.state === "withdrawn") {
    throw new AttributionRefused("consent", "the speaker has withdrawn consent");
  }
  switch (speaker.attribution) {
    case "anonymous":
      return anonymousAttribution(locale);
    case "pseudonym":
      return speaker.pseudonym;
    case "named": {
      const problem = namedConsentProblem(speaker, locale, now, channel);
      if (problem) throw new AttributionRefused("attribution", problem);
      return speaker.publicName!;
    }
  }
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
    attribution: attributionFor(speaker, quote.locale, now),
    narrative: { id: quote.narrative, label: NARRATIVE_LABELS[quote.narrative] },
    source: {
      title: quote.source.title,
      publisher: quote.source.publisher,
      url: quote.source.url,
      publishedAt: quote.source.publishedAt,
      citation: citation(quote.source),
    },
    campaign: { name: campaign.name, hashtags: campaign.hashtags, links: campaign.links },
  };
}
