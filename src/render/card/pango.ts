/**
 * Text that goes to sharp's `text` input is Pango markup. Everything from outside (quote,
 * attribution, hashtags) passes through here, so a quote containing `<span ...>` or `&` is drawn as
 * those characters instead of being interpreted, and no markup we did not write reaches Pango.
 */

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export const escapeMarkup = (text: string) => text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);

/**
 * GMarkup rejects the C0 controls XML forbids (the whole card would fail), and a bare CR would be a
 * second line break; tabs would jump to Pango tab stops.
 */
export function cleanText(text: string): string {
  return (
    text
      .replace(/\r\n?/g, "\n")
      .replace(/\t/g, " ")
      // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffe\uffff]/g, "")
  );
}

const LRM = "\u200e";
const RLM = "\u200f";
const FSI = "\u2068";
const PDI = "\u2069";

// A Latin or digit run with the punctuation that belongs inside it (2015-2017, 3.5, 10%, ISIS's),
// optionally with a leading # or @.
const LATIN_RUN =
  /[#@]?[\p{Script=Latin}\p{Nd}](?:[\p{Script=Latin}\p{Nd}_]|[.,:/%'’-](?=[\p{Script=Latin}\p{Nd}]))*%?/gu;

/**
 * sharp has no direction option: Pango takes each paragraph's direction from its first strong
 * character, so a mark pins it. Inside right-to-left text, Latin words, numbers and hashtags are
 * wrapped in first-strong isolates, so their characters and neighbouring punctuation keep their
 * order (`#WhyTheyLeft` rather than `WhyTheyLeft#`).
 */
export function directional(text: string, direction: "ltr" | "rtl"): string {
  if (direction === "ltr") return paragraphs(text, direction);
  return paragraphs(
    text.replace(LATIN_RUN, (run) => `${FSI}${run}${PDI}`),
    direction,
  );
}

const paragraphs = (text: string, direction: "ltr" | "rtl") =>
  text.replace(/^/gm, direction === "rtl" ? RLM : LRM);

/** Each hashtag isolated (it may be Latin or Arabic), so a run of them keeps its order in either direction. */
export const hashtagMarkup = (hashtags: string[], direction: "ltr" | "rtl") =>
  escapeMarkup(
    paragraphs(
      cleanText(hashtags.map((tag) => `${FSI}${tag.replace(/\s+/g, "")}${PDI}`).join("   ")),
      direction,
    ),
  );

/** Markup for one text layer: escaped, direction-marked text. Colour is applied when compositing. */
export const toMarkup = (text: string, direction: "ltr" | "rtl") =>
  escapeMarkup(directional(cleanText(text), direction));

/**
 * Tells Pango the language, which picks language-specific glyph forms (OpenType `locl`, e.g. Urdu
 * or Persian digits) and fallback fonts. Only a well-formed BCP 47 tag gets into the markup.
 */
export const withLanguage = (markup: string, locale: string) =>
  /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$/.test(locale) ? `<span lang="${locale}">${markup}</span>` : markup;
