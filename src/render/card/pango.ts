import { neutraliseBidi } from "../../domain/clean-text.js";

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
    neutraliseBidi(text)
      .replace(/\r\n?/g, "\n")
      .replace(/\t/g, " ")
      // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ufffe\uffff]/g, "")
  );
}

const LRM = "\u200e";
const RLM = "\u200f";
const FSI = "\u2068";
const PDI = "\u2069";

// What the Unicode bidi algorithm gets wrong on its own inside right-to-left text: a hashtag or
// mention (its leading # or @ is neutral, so it lands on the far side: `WhyTheyLeft#`), and a
// signed number (`5-`). Plain digits (2015, 2014-2015, 3.5, 10%) and Latin phrases already keep
// their order, and isolating each Latin word would reverse the words of an English phrase.
const NEEDS_ISOLATE = /[#@][\p{L}\p{N}\p{M}_]+|(?<![\p{L}\p{N}])[+\-\u2212]\p{Nd}[\p{Nd}.,:]*/gu;

/**
 * sharp has no direction option: Pango takes each paragraph's direction from its first strong
 * character, so a mark pins it. Inside right-to-left text, hashtags, mentions and signed numbers
 * are wrapped in first-strong isolates (U+2068 … U+2069) so their characters keep their order.
 */
export function directional(text: string, direction: "ltr" | "rtl"): string {
  if (direction === "ltr") return paragraphs(text, direction);
  return paragraphs(
    text.replace(NEEDS_ISOLATE, (run) => `${FSI}${run}${PDI}`),
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
