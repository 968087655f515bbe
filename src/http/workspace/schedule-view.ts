import { z } from "zod";
import { scheduleSchema } from "../../domain/campaign.js";
import { type CronPhrases, describeCron } from "../../schedule/describe.js";
import { nextSlots } from "../../schedule/slots.js";
import { DEFAULT_LANGUAGE, type Translator } from "../i18n.js";

export const scheduleQuery = z.object({
  cron: z.string().max(200).optional(),
  timeZone: z.string().max(100).optional(),
  viewerZone: z.string().max(100).optional(),
});

/** The locale Intl formats a page language's dates in (English pages keep the day-month-year order). */
const dateLocale = (lang: string) => (lang === DEFAULT_LANGUAGE ? "en-GB" : lang);

/** An instant as people read it in one zone, in the page's language: "Mon 7 Dec 2026, 09:00 GMT+3". */
export function inZone(at: Date, timeZone: string, lang = DEFAULT_LANGUAGE): string {
  return new Intl.DateTimeFormat(dateLocale(lang), {
    timeZone,
    weekday: "short",
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    timeZoneName: "short",
  }).format(at);
}

/**
 * The cron description's phrase book in a page language: the sentence parts from the catalogue
 * (`cron.*`, with that language's plural forms), day and month names from Intl.
 */
export function cronPhrases(i18n: Translator, lang: string): CronPhrases {
  const weekday = new Intl.DateTimeFormat(lang, { weekday: "long", timeZone: "UTC" });
  const month = new Intl.DateTimeFormat(lang, { month: "long", timeZone: "UTC" });
  return {
    say: (phrase, values) => i18n.t(lang, `cron.${phrase}`, values),
    // 1 January 2023 was a Sunday.
    day: (d) => weekday.format(new Date(Date.UTC(2023, 0, 1 + d))),
    month: (m) => month.format(new Date(Date.UTC(2023, m - 1, 1))),
  };
}

const validZone = (tz: string | undefined) => {
  if (!tz) return undefined;
  try {
    return new Intl.DateTimeFormat("en", { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
};

export type ScheduleViewOptions = {
  viewerZone?: string;
  count?: number;
  now?: Date;
  /** The page's language and catalogues; without them, English. */
  lang?: string;
  i18n?: Translator;
};

/**
 * The schedule in plain words and its next drops in the campaign's zone and the viewer's, from the
 * scheduler's own slot code; a cron or zone the campaign schema refuses gives its message instead
 * (the schema's own words in English, the catalogue's in another language).
 */
export function scheduleView(cron: string, timeZone: string, opts: ScheduleViewOptions = {}) {
  const { count = 5, now = new Date(), i18n } = opts;
  const lang = opts.lang ?? DEFAULT_LANGUAGE;
  const parsed = scheduleSchema.safeParse({ cron: cron.trim(), timeZone: timeZone.trim() });
  if (!parsed.success) {
    const translated = i18n && lang !== DEFAULT_LANGUAGE;
    const say = (i: { path: readonly PropertyKey[]; message: string }) =>
      translated
        ? i18n.t(lang, i.path[0] === "timeZone" ? "cron.invalidZone" : "cron.invalidCron")
        : i.message;
    return { scheduleError: [...new Set(parsed.error.issues.map(say))].join("; ") };
  }
  const { cron: expr, timeZone: zone } = parsed.data;
  const viewer = validZone(opts.viewerZone);
  return {
    description: describeCron(expr, i18n ? cronPhrases(i18n, lang) : undefined),
    zone,
    viewerZone: viewer && viewer !== zone ? viewer : undefined,
    drops: nextSlots(expr, zone, now, count).map((at) => ({
      iso: at.toISOString(),
      campaign: inZone(at, zone, lang),
      viewer: viewer && viewer !== zone ? inZone(at, viewer, lang) : undefined,
    })),
  };
}
