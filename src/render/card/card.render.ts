import { type Encoding, FORMATS, type Format } from "../../domain/campaign.js";
import { acquireCanvas, baseLayer, releaseCanvas } from "./base-layer.js";
import type { Canvas, Rgb } from "./blend.js";
import { CardError } from "./card-error.js";
import { contrast, parseColour } from "./colour.js";
import { compose, type Palette } from "./compose.js";
import { encode } from "./encode.js";
import { ensureFonts, missingGlyph } from "./fonts.js";
import { layoutFor } from "./layout.js";
import { cleanText } from "./pango.js";

export { MIN_QUOTE_PX } from "./layout.js";
export { CardError };

/**
 * Bump when a change to the card code changes what a card looks like: it is part of every output's
 * id (through the template version), so re-queueing renders fresh cards instead of keeping old ones.
 */
export const CARD_LAYOUT_VERSION = "2";

export type CardBrand = {
  /** "#rrggbb", or a vertical gradient from top to bottom. */
  background: string | { from: string; to: string };
  text: string;
  accent: string;
  /** Already normalised PNG (see normaliseBrandImage). */
  logoPng?: Buffer;
};

export type CardInput = {
  format: Format;
  locale: string;
  direction: "ltr" | "rtl";
  /** Exactly as published. Untrusted: it is escaped before it reaches Pango markup. */
  quote: string;
  /** The publishable attribution line, e.g. "A British former fighter". */
  attribution: string;
  hashtags: string[];
  brand: CardBrand;
  encoding: Encoding;
};

export type CardResult = {
  bytes: Buffer;
  width: number;
  height: number;
  fontSize: number;
  encoding: Encoding;
};

/** WCAG's minimum for large text: below it, hashtags fall back from the accent to the text colour. */
const MIN_ACCENT_CONTRAST = 3;

/**
 * One image card: background and logo (cached per brand), quote at the largest size that fits,
 * attribution and hashtags, encoded as asked. Same input, same pixels.
 */
export async function renderCard(input: CardInput): Promise<CardResult> {
  if (!Object.hasOwn(FORMATS, input.format))
    throw new Error(`unknown card format ${JSON.stringify(input.format)}`);
  if (input.direction !== "ltr" && input.direction !== "rtl") {
    throw new Error(`direction must be ltr or rtl, got ${JSON.stringify(input.direction)}`);
  }
  const quote = cleanText(input.quote).trim();
  if (!quote) throw new Error("quote is empty");
  const missing = missingGlyph([quote, input.attribution, ...input.hashtags]);
  if (missing) throw new CardError("missing_glyph", missing);
  const { top, bottom, palette } = paletteOf(input.brand);
  await ensureFonts();
  const layout = layoutFor(input.format);
  const base = await baseLayer({
    layout,
    direction: input.direction,
    top,
    bottom,
    logoPng: input.brand.logoPng,
  });
  let canvas: Canvas | undefined;
  try {
    const fontSize = await compose({
      canvas: () => {
        canvas = acquireCanvas(base);
        return canvas;
      },
      layout,
      formatName: input.format,
      locale: input.locale,
      direction: input.direction,
      quote,
      attribution: cleanText(input.attribution),
      hashtags: input.hashtags.map(cleanText),
      palette,
    });
    const bytes = await encode(canvas!, input.encoding);
    return { bytes, width: layout.width, height: layout.height, fontSize, encoding: input.encoding };
  } finally {
    if (canvas) releaseCanvas(canvas);
  }
}

function paletteOf(brand: CardBrand): { top: Rgb; bottom: Rgb; palette: Palette } {
  const bg = brand.background;
  const top = parseColour(typeof bg === "string" ? bg : bg?.from, "background");
  const bottom = typeof bg === "string" ? top : parseColour(bg?.to, "background");
  const text = parseColour(brand.text, "text");
  const accent = parseColour(brand.accent, "accent");
  const accentReadable = Math.min(contrast(accent, top), contrast(accent, bottom)) >= MIN_ACCENT_CONTRAST;
  return { top, bottom, palette: { text, accent, hashtags: accentReadable ? accent : text } };
}
