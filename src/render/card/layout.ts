import { FORMATS, type Format } from "../../domain/campaign.js";

export type Box = { left: number; top: number; width: number; height: number };

/**
 * Geometry of a card, in left-to-right coordinates; compose.ts and base-layer.ts mirror x for
 * right-to-left cards.
 *
 * "stacked" (square, portrait, story): a large quotation mark, the quote, an accent rule and the
 * attribution form one group, centred in the space above a footer of hashtags and the logo.
 * "side" (landscape, where height is scarce): an accent bar runs beside the quote, and the
 * attribution moves into the footer next to the hashtags, so the quote gets the full height.
 */
export type Layout = {
  kind: "stacked" | "side";
  width: number;
  height: number;
  /** Safe area: everything but the background stays inside it. */
  safe: Box;
  /** Where the quote group (mark, quote, rule, attribution) may go. */
  group: Box;
  /** Left edge and width of the quote's text column. */
  text: { left: number; width: number };
  mark?: { size: number; gap: number };
  rule: { width: number; thickness: number; gap: number };
  quote: { minSize: number; maxSize: number };
  attribution: { size: number; gap: number };
  footer: Box & { hashtagSize: number; textWidth: number };
  logo: Box;
};

/**
 * The smallest quote size: text this size on a 1080-px-wide card stays readable when the card is
 * shown full width on a phone (about 10 px of screen height at 390 css px). Below it, CardError.
 */
export const MIN_QUOTE_PX = 28;

/** Naskh letters are small for their em: Arabic secondary lines get this much more size to match Latin ones. */
export const ARABIC_SCALE = 1.2;

/** Short quotes stop growing here: beyond it a card shouts, and the quote mark looks small. */
const MAX_QUOTE_PX: Record<Format, number> = { square: 84, portrait: 92, story: 104, landscape: 64 };

const cache = new Map<Format, Layout>();

export function layoutFor(format: Format): Layout {
  let found = cache.get(format);
  if (!found) {
    found = compute(format);
    cache.set(format, found);
  }
  return found;
}

function compute(format: Format): Layout {
  const { width, height } = FORMATS[format];
  const short = Math.min(width, height);
  const margin = Math.round(short * 0.08);
  const safe = { left: margin, top: margin, width: width - 2 * margin, height: height - 2 * margin };
  // Text sizes are in pixels of a 1080-wide card; landscape (1200) keeps them, as it is shown at
  // about the same width and is short of height.
  const unit = 1;
  const logoSize = Math.round(short * (format === "landscape" ? 0.11 : 0.1));
  const logo = {
    left: safe.left + safe.width - logoSize,
    top: safe.top + safe.height - logoSize,
    width: logoSize,
    height: logoSize,
  };
  const hashtagSize = Math.round(27 * unit);
  const footerGap = Math.round(margin * 0.5);
  const attribution = { size: Math.round(30 * unit), gap: Math.round(margin * 0.3) };
  const rule = { width: Math.round(72 * unit), thickness: Math.max(4, Math.round(6 * unit)), gap: 0 };

  if (format === "landscape") {
    // Footer: attribution over hashtags, beside the logo; two lines of text at most.
    const footerHeight = Math.max(logoSize, Math.ceil((attribution.size + hashtagSize) * 1.25));
    const footer = {
      left: safe.left,
      top: safe.top + safe.height - footerHeight,
      width: safe.width,
      height: footerHeight,
      hashtagSize,
      textWidth: safe.width - logoSize - footerGap,
    };
    const group = { ...safe, height: footer.top - footerGap - safe.top };
    rule.gap = Math.round(margin * 0.55);
    const textLeft = safe.left + rule.thickness + rule.gap;
    return {
      kind: "side",
      width,
      height,
      safe,
      group,
      text: { left: textLeft, width: safe.left + safe.width - textLeft },
      rule,
      quote: { minSize: MIN_QUOTE_PX, maxSize: Math.round(MAX_QUOTE_PX[format] * unit) },
      attribution,
      footer,
      logo,
    };
  }

  const footer = {
    left: safe.left,
    top: logo.top,
    width: safe.width,
    height: logoSize,
    hashtagSize,
    textWidth: safe.width - logoSize - footerGap,
  };
  const group = { ...safe, height: footer.top - footerGap - safe.top };
  rule.gap = Math.round(margin * 0.45);
  return {
    kind: "stacked",
    width,
    height,
    safe,
    group,
    text: { left: safe.left, width: safe.width },
    mark: { size: Math.round(220 * unit), gap: Math.round(margin * 0.35) },
    rule,
    quote: { minSize: MIN_QUOTE_PX, maxSize: Math.round(MAX_QUOTE_PX[format] * unit) },
    attribution,
    footer,
    logo,
  };
}

/** x of a box of `width` at `left` in LTR coordinates, mirrored for right-to-left cards. */
export const mirrorX = (layout: Layout, left: number, width: number, direction: "ltr" | "rtl") =>
  direction === "rtl" ? layout.width - left - width : left;
