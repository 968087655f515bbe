/**
 * The card drawn by Skia (@napi-rs/canvas) for bench/render.bench.ts, encoded by sharp with the
 * renderer's own PNG options: same size, gradient, shipped font files, quote size (testimony's
 * fitted size, passed in), wrap width, margins, attribution, hashtags and logo. Skia shapes text
 * itself (HarfBuzz inside SkParagraph), Arabic included, right-aligned for right-to-left cards.
 * It is a cost peer, not a pixel copy: positions follow layout.ts, line breaks come from Skia's
 * own measurement.
 */
import path from "node:path";
import { type Canvas, GlobalFonts, type Image, loadImage, type SKRSContext2D } from "@napi-rs/canvas";
import sharp from "sharp";
import { FORMATS, type Format } from "../../src/domain/campaign.js";
import { FONTS_DIR } from "../../src/paths.js";
import type { CardInput } from "../../src/render/card/card.render.js";
import { ENCODE_OPTIONS } from "../../src/render/card/encode.js";
import { face, lineHeight } from "../../src/render/card/fonts.js";
import { ARABIC_SCALE, layoutFor } from "../../src/render/card/layout.js";
import { cleanText, directional } from "../../src/render/card/pango.js";
import { BRAND } from "./cards.js";

let fontsReady = false;
function registerFonts(): void {
  if (fontsReady) return;
  for (const file of [
    "NotoSans-Regular.ttf",
    "NotoSans-Bold.ttf",
    "NotoNaskhArabic-Regular.ttf",
    "NotoNaskhArabic-Bold.ttf",
  ]) {
    if (!GlobalFonts.registerFromPath(path.join(FONTS_DIR, file)))
      throw new Error(`Skia cannot load ${file}`);
  }
  fontsReady = true;
}

const FAMILY = { latin: '"Noto Sans"', arabic: '"Noto Naskh Arabic", "Noto Sans"' };
const font = (rtl: boolean, size: number, bold = false) =>
  `${bold ? "bold " : ""}${size}px ${rtl ? FAMILY.arabic : FAMILY.latin}`;

/** Greedy word wrap at `width` with Skia's own measurement (canvas has no wrapping of its own). */
function wrapLines(ctx: SKRSContext2D, text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    const candidate = line ? `${line} ${word}` : word;
    if (line && ctx.measureText(candidate).width > width) {
      lines.push(line);
      line = word;
    } else {
      line = candidate;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** Canvases are reused per format (two cards may be in flight), as testimony reuses its working canvases. */
const canvases = new Map<Format, Canvas[]>();
let logo: Promise<Image> | undefined;

/** The card as PNG; with `{ encode: false }`, its raw RGBA pixels only (for the profile). */
export type SkiaPeer = (
  input: CardInput,
  fontSize: number,
  options?: { encode?: boolean },
) => Promise<Buffer>;

export async function skiaPeer(logoPng: Buffer): Promise<SkiaPeer> {
  const { createCanvas } = await import("@napi-rs/canvas");
  registerFonts();
  logo ??= loadImage(logoPng);
  const logoImage = await logo;
  return async (input, fontSize, options = {}) => {
    const L = layoutFor(input.format);
    const rtl = input.direction === "rtl";
    let free = canvases.get(input.format);
    if (!free) {
      free = [];
      canvases.set(input.format, free);
    }
    const canvas = free.pop() ?? createCanvas(L.width, L.height);
    const ctx = canvas.getContext("2d");
    ctx.lang = input.locale;
    ctx.direction = rtl ? "rtl" : "ltr";
    ctx.textAlign = "start";
    ctx.textBaseline = "alphabetic";
    ctx.globalAlpha = 1;
    const x = (left: number, width: number) => (rtl ? L.width - left - width : left);
    /** x at which a line starting at `left` (LTR coordinates) is anchored: its right end for RTL. */
    const anchor = (left: number) => (rtl ? L.width - left : left);

    const gradient = ctx.createLinearGradient(0, 0, 0, L.height);
    gradient.addColorStop(0, BRAND.background.from);
    gradient.addColorStop(1, BRAND.background.to);
    ctx.fillStyle = gradient;
    ctx.fillRect(0, 0, L.width, L.height);
    ctx.drawImage(logoImage, x(L.logo.left, L.logo.width), L.logo.top, L.logo.width, L.logo.height);

    const script = rtl ? "arabic" : "latin";
    const quoteFace = face(script, "regular");
    const quoteLine = lineHeight(quoteFace, fontSize);
    const quoteAscent = Math.ceil((quoteFace.metrics.ascender * fontSize) / quoteFace.metrics.unitsPerEm);
    ctx.font = font(rtl, fontSize);
    // The same text preparation as testimony's (direction marks, isolated hashtags), without markup.
    const lines = wrapLines(ctx, directional(cleanText(input.quote).trim(), input.direction), L.text.width);
    const quoteHeight = lines.length * quoteLine;
    const drawQuote = (top: number) => {
      ctx.fillStyle = BRAND.text;
      ctx.font = font(rtl, fontSize);
      lines.forEach((line, i) => {
        ctx.fillText(line, anchor(L.text.left), top + quoteAscent + i * quoteLine);
      });
    };
    const attributionSize = Math.round(L.attribution.size * (rtl ? ARABIC_SCALE : 1));
    const drawAttribution = (top: number) => {
      ctx.globalAlpha = 0.82;
      ctx.fillStyle = BRAND.text;
      ctx.font = font(rtl, attributionSize);
      ctx.fillText(`\u2014 ${input.attribution}`, anchor(L.text.left), top + attributionSize);
      ctx.globalAlpha = 1;
    };
    const drawHashtags = (left: number, top: number, width: number) => {
      ctx.fillStyle = BRAND.accent;
      ctx.font = font(rtl, L.footer.hashtagSize, true);
      const tags = input.hashtags.map((tag) => `\u2068${tag}\u2069`).join("   ");
      ctx.fillText(tags, anchor(left), top + L.footer.hashtagSize, width);
    };

    if (L.kind === "stacked") {
      const mark = L.mark!;
      const markHeight = Math.round(mark.size * 0.4);
      const above = markHeight + mark.gap;
      const below = L.rule.gap + L.rule.thickness + L.attribution.gap + Math.round(attributionSize * 1.4);
      let y = L.group.top + Math.floor((L.group.height - above - quoteHeight - below) * 0.45);
      ctx.fillStyle = BRAND.accent;
      ctx.font = font(false, mark.size, true);
      ctx.fillText("\u201c", anchor(L.text.left), y + mark.size * 0.72);
      y += above;
      drawQuote(y);
      y += quoteHeight + L.rule.gap;
      ctx.fillStyle = BRAND.accent;
      ctx.fillRect(x(L.text.left, L.rule.width), y, L.rule.width, L.rule.thickness);
      y += L.rule.thickness + L.attribution.gap;
      drawAttribution(y);
      drawHashtags(
        L.footer.left,
        L.footer.top + (L.footer.height - L.footer.hashtagSize * 1.4) / 2,
        L.footer.textWidth,
      );
    } else {
      const y = L.group.top + Math.floor((L.group.height - quoteHeight) * 0.45);
      ctx.fillStyle = BRAND.accent;
      ctx.fillRect(x(L.safe.left, L.rule.thickness), y, L.rule.thickness, quoteHeight);
      drawQuote(y);
      const columnWidth = L.footer.textWidth - (L.text.left - L.safe.left);
      drawAttribution(L.footer.top);
      drawHashtags(
        L.text.left,
        L.footer.top + Math.round(attributionSize * 1.4) + L.attribution.gap,
        columnWidth,
      );
    }

    // Opaque canvas, so premultiplied RGBA is straight RGBA; sharp drops alpha and encodes RGB as testimony does.
    const { width, height } = FORMATS[input.format];
    try {
      if (options.encode === false) return canvas.data();
      return await sharp(canvas.data(), { raw: { width, height, channels: 4 } })
        .removeAlpha()
        .png(ENCODE_OPTIONS.png)
        .toBuffer();
    } finally {
      free.push(canvas);
    }
  };
}
