import type { Narrative } from "../narrative.js";
import { ar } from "./ar.js";
import { de } from "./de.js";
import { en } from "./en.js";
import { fr } from "./fr.js";
import { ru } from "./ru.js";
import { tr } from "./tr.js";

/**
 * Every fixed wording that reaches an output, one catalogue per language. A plain typed module
 * instead of i18next: the wordings are fixed strings (numbers and dates go through Intl), there is no
 * plural or interpolation to manage, the domain stays free of I/O, and the compiler refuses a
 * catalogue that misses a key (`Catalogue` below); test/render/locales.test.ts checks it again at
 * run time, with the text templates. Adding a locale: a `<lang>.ts` here, its entry in CATALOGUES,
 * and `post|caption|alt_text.<lang>.hbs` in src/templates/text.
 */
export type Catalogue = {
  /** English name of the language, for people choosing locales. */
  name: string;
  /** The attribution of an `anonymous` speaker. */
  anonymous: string;
  /** Opening and closing quotation marks around a quote or a title. */
  quoteMarks: readonly [string, string];
  narrative: Record<Narrative, string>;
};

export const CATALOGUES = { en, ar, fr, de, ru, tr } as const satisfies Record<string, Catalogue>;

export type SupportedLanguage = keyof typeof CATALOGUES;
export const SUPPORTED_LANGUAGES = Object.keys(CATALOGUES) as SupportedLanguage[];

/** The catalogue of a locale's language (`ar-IQ` → `ar`), or undefined when we have none: never English instead. */
export function catalogueFor(locale: string): Catalogue | undefined {
  const lang = (locale.split("-")[0] ?? locale).toLowerCase();
  return Object.hasOwn(CATALOGUES, lang) ? CATALOGUES[lang as SupportedLanguage] : undefined;
}
