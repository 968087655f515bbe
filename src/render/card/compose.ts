import { type Canvas, fillRect, mirrorMask, paintLayer, type Rgb } from "./blend.js";
import { CardError } from "./card-error.js";
import { type Fitted, fitText, NoFit } from "./fit.js";
import { face, scriptOf } from "./fonts.js";
import { fitHashtags } from "./hashtags.js";
import { ARABIC_SCALE, type Layout } from "./layout.js";
import { toMarkup, withLanguage } from "./pango.js";
import { renderTextCached, type TextMask } from "./text-layer.js";

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
/** Share of the free space left above a centred block: a little above the middle reads as centred. */
const OPTICAL_CENTRE = 0.45;

type Shared = {
  c: ComposeInput;
  L: Layout;
  attribution?: TextMask;
  fitQuote: (height: number) => Promise<Fitted>;
  /** Left edge of a mask whose line-start edge is at `left` in LTR coordinates (mirrored for RTL). */
  x: (left: number, width: number) => number;
};

/** Draws the quote group and the footer onto the canvas; returns the quote's font size. */
export async function compose(c: ComposeInput): Promise<number> {
  const L = c.layout;
  const script = scriptOf(c.direction);
  const attributionText = c.attribution.trim();
  const attribution = attributionText
    ? await renderTextCached({
        markup: withLanguage(toMarkup(`\u2014 ${attributionText}`, c.direction), c.locale),
        face: face(script, "regular"),
        size: Math.round(L.attribution.size * (script === "arabic" ? ARABIC_SCALE : 1)),
        width: L.kind === "side" ? L.footer.textWidth - (L.text.left - L.safe.left) : L.text.width,
        colour: c.palette.text,
      })
    : undefined;
  const fitQuote = (height: number) =>
    fitText({
      text: c.quote,
      markup: withLanguage(toMarkup(c.quote, c.direction), c.locale),
      face: face(script, "regular"),
      box: { width: L.text.width, height },
      colour: c.palette.text,
      minSize: L.quote.minSize,
      maxSize: L.quote.maxSize,
    }).catch((error) => {
      if (error instanceof NoFit) {
        throw new CardError("cannot_fit", `quote cannot fit in ${c.formatName} at ≥ ${L.quote.minSize} px`);
      }
      throw error;
    });
  const x = (left: number, width: number) => (c.direction === "rtl" ? L.width - left - width : left);
  const shared = { c, L, attribution, fitQuote, x };
  return L.kind === "stacked" ? stacked(shared) : side(shared);
}

/** Mark, quote, rule and attribution centred above a footer of hashtags and logo. */
async function stacked({ c, L, attribution, fitQuote, x }: Shared): Promise<number> {
  const markLtr = await renderTextCached({
    markup: "\u201c",
    face: face("latin", "bold"),
    size: L.mark!.size,
    width: L.text.width,
    colour: c.palette.accent,
  });
  const mark = c.direction === "rtl" ? mirror(markLtr) : markLtr;
  const above = mark.height + L.mark!.gap;
  const below = attribution ? L.rule.gap + L.rule.thickness + L.attribution.gap + attribution.height : 0;
  const fitting = fitQuote(L.group.height - above - below);
  const canvas = c.canvas();
  const quote = await fitting;

  let y = L.group.top + Math.floor((L.group.height - above - quote.mask.height - below) * OPTICAL_CENTRE);
  paintLayer(canvas, mark, x(L.text.left, mark.width), y, c.palette.accent);
  y += above;
  paintLayer(canvas, quote.mask, x(L.text.left, quote.mask.width), y, c.palette.text);
  if (attribution) {
    y += quote.mask.height + L.rule.gap;
    fillRect(canvas, x(L.text.left, L.rule.width), y, L.rule.width, L.rule.thickness, c.palette.accent);
    y += L.rule.thickness + L.attribution.gap;
    paintLayer(
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
    paintLayer(canvas, tags, x(L.footer.left, tags.width), top, c.palette.hashtags);
  }
  return quote.size;
}

/** Landscape: accent bar beside the quote; attribution and hashtags share the footer with the logo. */
async function side({ c, L, attribution, fitQuote, x }: Shared): Promise<number> {
  if (attribution && attribution.height > L.footer.height) {
    throw new CardError("cannot_fit", `attribution cannot fit in ${c.formatName}`);
  }
  const fitting = fitQuote(L.group.height);
  const canvas = c.canvas();
  const quote = await fitting;

  const y = L.group.top + Math.floor((L.group.height - quote.mask.height) * OPTICAL_CENTRE);
  const bar = L.rule.thickness;
  fillRect(canvas, x(L.safe.left, bar), y, bar, quote.mask.height, c.palette.accent);
  paintLayer(canvas, quote.mask, x(L.text.left, quote.mask.width), y, c.palette.text);

  const columnWidth = L.footer.textWidth - (L.text.left - L.safe.left);
  const gap = attribution ? L.attribution.gap : 0;
  const tags = await fitHashtags(c, columnWidth, L.footer.height - (attribution?.height ?? 0) - gap);
  let top =
    L.footer.top +
    Math.floor((L.footer.height - (attribution?.height ?? 0) - (tags ? gap + tags.height : 0)) / 2);
  if (attribution) {
    paintLayer(
      canvas,
      attribution,
      x(L.text.left, attribution.width),
      top,
      c.palette.text,
      ATTRIBUTION_OPACITY,
    );
    top += attribution.height + gap;
  }
  if (tags) paintLayer(canvas, tags, x(L.text.left, tags.width), top, c.palette.hashtags);
  return quote.size;
}

const mirrored = new WeakMap<TextMask, TextMask>();
function mirror(mask: TextMask): TextMask {
  let found = mirrored.get(mask);
  if (!found) {
    found = mirrorMask(mask);
    mirrored.set(mask, found);
  }
  return found;
}
