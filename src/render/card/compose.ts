import { hasArabic } from "./arabic-forms.js";
import { type Canvas, fillRect, mirrorMask, paintMask, type Rgb } from "./blend.js";
import { CardError } from "./card-error.js";
import { fitText, NoFit } from "./fit.js";
import { face, scriptOf } from "./fonts.js";
import type { Layout } from "./layout.js";
import { hashtagMarkup, toMarkup, withLanguage } from "./pango.js";
import { renderText, renderTextCached, type TextMask } from "./text-layer.js";

export type Palette = { text: Rgb; accent: Rgb; hashtags: Rgb };
export type ComposeInput = {
  /** Called once the quote's first render is under way, so the copy overlaps it. */
  canvas: () => Canvas;
  layout: Layout;
  formatName: string;
  locale: string;
  direction: "ltr" | "rtl";
  quote: string;
  attribution: string;
  hashtags: string[];
  palette: Palette;
};

const ATTRIBUTION_OPACITY = 0.82;
/** Naskh letters are small for their em: Arabic secondary lines get this much more size to match Latin ones. */
const ARABIC_SCALE = 1.2;
/** Free space above a centred block, as a share of all free space: a little above the middle reads as centred. */
const OPTICAL_CENTRE = 0.45;

const mirrored = new WeakMap<TextMask, TextMask>();
const mirror = (mask: TextMask) => {
  let found = mirrored.get(mask);
  if (!found) {
    found = mirrorMask(mask);
    mirrored.set(mask, found);
  }
  return found;
};

/** Draws the quote group and the footer onto `canvas`; returns the quote's font size. */
export async function compose(c: ComposeInput): Promise<number> {
  const { layout: L, direction } = c;
  const script = scriptOf(direction);
  // Horizontal position of a mask whose line-start edge is at `left` (in LTR coordinates).
  const x = (left: number, width: number) => (direction === "rtl" ? L.width - left - width : left);

  const attribution = c.attribution.trim()
    ? await renderTextCached({
        markup: withLanguage(toMarkup(`\u2014 ${c.attribution.trim()}`, direction), c.locale),
        face: face(script, "regular"),
        size: Math.round(L.attribution.size * (script === "arabic" ? ARABIC_SCALE : 1)),
        width: L.kind === "side" ? L.footer.textWidth - (L.text.left - L.safe.left) : L.text.width,
      })
    : undefined;
  const attributionBlock = attribution ? L.rule.thickness + L.attribution.gap + attribution.height : 0;
  const fitQuote = (height: number) =>
    fitText({
      text: c.quote,
      markup: withLanguage(toMarkup(c.quote, direction), c.locale),
      face: face(script, "regular"),
      box: { width: L.text.width, height },
      minSize: L.quote.minSize,
      maxSize: L.quote.maxSize,
    }).catch((error) => {
      if (error instanceof NoFit) {
        throw new CardError("cannot_fit", `quote cannot fit in ${c.formatName} at ≥ ${L.quote.minSize} px`);
      }
      throw error;
    });

  let quoteSize: number;
  if (L.kind === "stacked") {
    const markLtr = await renderTextCached({
      markup: "\u201c",
      face: face("latin", "bold"),
      size: L.mark!.size,
      width: L.text.width,
    });
    const mark = direction === "rtl" ? mirror(markLtr) : markLtr;
    const above = mark.height + L.mark!.gap;
    const below = attribution ? L.rule.gap + attributionBlock : 0;
    const fitting = fitQuote(L.group.height - above - below);
    const canvas = c.canvas();
    const quote = await fitting;
    quoteSize = quote.size;
    let y = L.group.top + Math.floor((L.group.height - above - quote.mask.height - below) * OPTICAL_CENTRE);
    paintMask(canvas, mark, x(L.text.left, mark.width), y, c.palette.accent);
    y += above;
    paintMask(canvas, quote.mask, x(L.text.left, quote.mask.width), y, c.palette.text);
    y += quote.mask.height + L.rule.gap;
    if (attribution) {
      fillRect(canvas, x(L.text.left, L.rule.width), y, L.rule.width, L.rule.thickness, c.palette.accent);
      y += L.rule.thickness + L.attribution.gap;
      paintMask(
        canvas,
        attribution,
        x(L.text.left, attribution.width),
        y,
        c.palette.text,
        ATTRIBUTION_OPACITY,
      );
    }
    const tags = await fitHashtags(c, L.footer.textWidth, L.footer.height);
    if (tags) {
      const top = L.footer.top + Math.floor((L.footer.height - tags.height) / 2);
      paintMask(canvas, tags, x(L.footer.left, tags.width), top, c.palette.hashtags);
    }
  } else {
    const fitting = fitQuote(L.group.height);
    const canvas = c.canvas();
    const quote = await fitting;
    quoteSize = quote.size;
    const y = L.group.top + Math.floor((L.group.height - quote.mask.height) * OPTICAL_CENTRE);
    fillRect(
      canvas,
      x(L.safe.left, L.rule.thickness),
      y,
      L.rule.thickness,
      quote.mask.height,
      c.palette.accent,
    );
    paintMask(canvas, quote.mask, x(L.text.left, quote.mask.width), y, c.palette.text);

    // Footer: attribution over the hashtags, in the quote's column, beside the logo.
    const columnWidth = L.footer.textWidth - (L.text.left - L.safe.left);
    const gap = attribution ? L.attribution.gap : 0;
    const tags = await fitHashtags(c, columnWidth, L.footer.height - (attribution?.height ?? 0) - gap);
    const block = (attribution?.height ?? 0) + (tags ? gap + tags.height : 0);
    let top = L.footer.top + Math.floor((L.footer.height - block) / 2);
    if (attribution) {
      paintMask(
        canvas,
        attribution,
        x(L.text.left, attribution.width),
        top,
        c.palette.text,
        ATTRIBUTION_OPACITY,
      );
      top += attribution.height + gap;
    }
    if (tags) paintMask(canvas, tags, x(L.text.left, tags.width), top, c.palette.hashtags);
  }
  return quoteSize;
}

const hashtagCache = new Map<string, Promise<TextMask | undefined>>();

/**
 * Hashtags at the footer size, smaller if need be; when even the smallest size cannot hold them
 * all (a campaign may have up to 30), the last ones are left off the card: the text variants still
 * carry every hashtag. A campaign's cards share hashtags, so the result is cached.
 */
function fitHashtags(c: ComposeInput, width: number, height: number): Promise<TextMask | undefined> {
  const tags = c.hashtags.map((t) => t.trim()).filter(Boolean);
  const key = JSON.stringify([tags, width, height, c.direction, c.locale, c.layout.footer.hashtagSize]);
  let found = hashtagCache.get(key);
  if (!found) {
    found = searchHashtags(tags, c, width, height);
    found.catch(() => hashtagCache.delete(key));
    hashtagCache.set(key, found);
    if (hashtagCache.size > 32) hashtagCache.delete(hashtagCache.keys().next().value!);
  }
  return found;
}

async function searchHashtags(all: string[], c: ComposeInput, width: number, height: number) {
  const bold = face(scriptOf(c.direction), "bold");
  for (let count = all.length; count > 0; count--) {
    const tags = all.slice(0, count);
    const markup = withLanguage(hashtagMarkup(tags, c.direction), c.locale);
    const maxSize = Math.round(c.layout.footer.hashtagSize * (hasArabic(tags.join("")) ? ARABIC_SCALE : 1));
    const usual = await renderText({ markup, face: bold, size: maxSize, width });
    if (usual.height <= height && usual.width <= width) return usual;
    const box = { width, height };
    const minSize = Math.round(maxSize * 0.7);
    const fitted = await fitText({
      text: tags.join("   "),
      markup,
      face: bold,
      box,
      minSize,
      maxSize: maxSize - 1,
    }).catch((error) => {
      if (error instanceof NoFit) return undefined;
      throw error;
    });
    if (fitted) return fitted.mask;
  }
  return undefined;
}
