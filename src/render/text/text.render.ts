import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import Handlebars, { type HelperOptions } from "handlebars";
import type { TextVariant } from "../../domain/campaign.js";
import { neutraliseBidi } from "../../domain/clean-text.js";
import { languageOf } from "../../domain/locale.js";
import type { PublicationView } from "../../domain/publication.js";
import { limitProblem } from "../../domain/text-limits.js";
import { TEMPLATES_DIR } from "../../paths.js";
import { CARD_LAYOUT_VERSION } from "../card/card.render.js";

/**
 * Unicode first-strong isolate (FSI … PDI): keeps Latin hashtags, digits and URLs in order inside
 * Arabic text, and fences the quote and the attribution off from each other, so nothing inside a
 * quote can reorder who said it. Text passed the clean-text gate on the way in; anything stored
 * before that gate existed loses its embeddings, overrides and unpaired isolates here.
 */
export const isolate = (s: unknown) => `${FSI}${isolateRuns(neutraliseBidi(String(s)))}${PDI}`;

const FSI = "\u2068";
const PDI = "\u2069";

// A left-to-right run inside right-to-left text: Latin words, digits, hashtags, mentions, URLs and the
// spaces between them. Its leading '#' or '@' is neutral, so without an isolate a browser puts it on
// the far side ("WhyTheyLeft#"); a URL's slashes and a trailing number scatter the same way.
const LTR_TOKEN = String.raw`(?:[#@]|https?://)?[\p{Script=Latin}\p{Nd}][\p{Script=Latin}\p{Nd}\p{M}_/.:?=&%+~-]*`;
const LTR_RUN = new RegExp(`${LTR_TOKEN}(?: +${LTR_TOKEN})*`, "gu");
// A right-to-left run inside left-to-right text: Arabic-script words and the digits and spaces between them.
const RTL_TOKEN = String.raw`[#@]?[\p{Script=Arabic}\p{Script=Hebrew}][\p{Script=Arabic}\p{Script=Hebrew}\p{M}\p{Nd}_]*`;
const RTL_RUN = new RegExp(`${RTL_TOKEN}(?: +${RTL_TOKEN})*`, "gu");
const TRAILING_PUNCTUATION = /[.,:;?!%-]+$/u;

const FIRST_STRONG = /\p{L}/u;
const RTL_LETTER = /[\p{Script=Arabic}\p{Script=Hebrew}\p{Script=Syriac}\p{Script=Thaana}]/u;

/**
 * Inside a value whose first strong letter is right-to-left (its isolate will be RTL), each run of
 * left-to-right text gets its own first-strong isolate, and the other way round, so it keeps its order
 * when the text is pasted into a browser or a social app: "#WhyTheyLeft", "https://…" and "2015"
 * inside an Arabic quote, an Arabic phrase inside an English one. Sentence punctuation after a run
 * stays outside it, with the surrounding text. A value that is one run already (a hashtag) is left as it is.
 */
export function isolateRuns(text: string): string {
  const first = FIRST_STRONG.exec(text)?.[0];
  if (!first) return text;
  const run = RTL_LETTER.test(first) ? LTR_RUN : RTL_RUN;
  return text.replace(run, (match) => {
    const punctuation = TRAILING_PUNCTUATION.exec(match)?.[0] ?? "";
    const core = match.slice(0, match.length - punctuation.length);
    if (!core || core === text.trim()) return match;
    return `${FSI}${core}${PDI}${punctuation}`;
  });
}

function createEngine() {
  const hb = Handlebars.create();
  hb.registerHelper("join", (items: unknown[], sep: unknown) =>
    Array.isArray(items) ? items.join(String(sep)) : "",
  );
  const localeOfView = (options: HelperOptions): string =>
    (options.data?.root as PublicationView | undefined)?.quote.locale ?? "en";
  hb.registerHelper("isolate", (s: unknown) => isolate(s));
  hb.registerHelper("isolateEach", (items: unknown[], sep: unknown) =>
    Array.isArray(items) ? items.map((i) => isolate(i)).join(String(sep)) : "",
  );
  // Case changes follow the post's language: Turkish "istanbul" → "İSTANBUL", not "ISTANBUL".
  hb.registerHelper("upper", (s: unknown, options: HelperOptions) =>
    String(s).toLocaleUpperCase(localeOfView(options)),
  );
  // One NumberFormat per locale: building one costs far more than formatting with it.
  const numberFormats = new Map<string, Intl.NumberFormat>();
  hb.registerHelper("number", (n: unknown, options: HelperOptions) => {
    const locale = localeOfView(options);
    let f = numberFormats.get(locale);
    if (!f) {
      f = new Intl.NumberFormat(locale);
      if (numberFormats.size >= 100) numberFormats.clear();
      numberFormats.set(locale, f);
    }
    return f.format(Number(n));
  });
  return hb;
}

export type TextTemplates = {
  /** Hash of the text templates and the card layout version: part of every output id. */
  version: string;
  render(variant: TextVariant, view: PublicationView): string;
};

export class TextTemplateError extends Error {
  constructor(
    readonly reason: "template" | "variant_too_long",
    message: string,
  ) {
    super(message);
  }
}

/**
 * Loads src/templates/text/<variant>.<lang>.hbs once. Plain-text targets: no HTML escaping;
 * strict mode turns a misspelt field into an error instead of an empty string; prototype access
 * stays at Handlebars' safe default.
 */
/** The languages the templates in `dir` cover: those with every variant. */
export function templateLanguages(dir = path.join(TEMPLATES_DIR, "text")): Map<string, TextVariant[]> {
  const out = new Map<string, TextVariant[]>();
  for (const f of readdirSync(dir)) {
    const m = /^(post|caption|alt_text)\.([a-z]{2,3})\.hbs$/.exec(f);
    if (!m) continue;
    out.set(m[2]!, [...(out.get(m[2]!) ?? []), m[1] as TextVariant]);
  }
  return out;
}

export function loadTextTemplates(dir = path.join(TEMPLATES_DIR, "text")): TextTemplates {
  const hb = createEngine();
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".hbs"))
    .sort();
  const hash = createHash("sha256");
  const compiled = new Map<string, HandlebarsTemplateDelegate>();
  for (const f of files) {
    const source = readFileSync(path.join(dir, f), "utf8");
    hash.update(f).update("\0").update(source).update("\0");
    compiled.set(f.replace(/\.hbs$/, ""), hb.compile(source, { strict: true, noEscape: true }));
  }
  // The card layout shapes an output as much as the text templates do: one version covers both.
  hash.update(`card-layout:${CARD_LAYOUT_VERSION}`);
  const version = hash.digest("hex").slice(0, 12);

  return {
    version,
    render(variant, view) {
      // No English template for a language we have none in: the post would speak the wrong language.
      const lang = languageOf(view.quote.locale);
      const template = compiled.get(`${variant}.${lang}`);
      if (!template) throw new TextTemplateError("template", `no ${variant} template for ${lang}`);
      let text: string;
      try {
        text = template(view);
      } catch (err) {
        throw new TextTemplateError("template", `template ${variant} failed: ${(err as Error).message}`);
      }
      const tidy = text
        .replace(/[ \t]+\n/g, "\n")
        .replace(/\n{3,}/g, "\n\n")
        .trim();
      const problem = limitProblem(variant, tidy);
      if (problem) throw new TextTemplateError("variant_too_long", problem);
      return tidy;
    },
  };
}
