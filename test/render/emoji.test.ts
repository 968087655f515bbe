import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { CardError, type CardInput, renderCard } from "../../src/render/card/card.render.js";
import { ensureFonts, face } from "../../src/render/card/fonts.js";
import { prepare } from "../../src/render/card/measure.js";
import { toMarkup } from "../../src/render/card/pango.js";
import { renderText } from "../../src/render/card/text-layer.js";

// A palette where every pixel the card draws without emoji lies on the line from white to pure
// blue (r = g, b = 255): background, text, accent and the attribution's opacity all blend white
// and blue. A pixel off that line can only come from an emoji's own colours.
const BRAND = { background: "#ffffff", text: "#0000ff", accent: "#0000ff" };
const offLine = (r: number, g: number, b: number) => Math.abs(r - g) > 40 || b < 200;

// Long enough that the quote lands well below its maximum size, where unscaled 109-ppem emoji
// bitmaps would be about 2.5 times too large.
const QUOTE =
  "They told us it was paradise 👍🏽 and that our children would grow up proud. We believed it for a year, " +
  "until the day the bombs fell on the market. Then I took my family 👨‍👩‍👧 across the border at night.";

const input = (over: Partial<CardInput> = {}): CardInput => ({
  format: "square",
  locale: "en",
  direction: "ltr",
  quote: QUOTE,
  attribution: "A former fighter",
  hashtags: [],
  brand: BRAND,
  encoding: "png",
  ...over,
});

type Box = { left: number; right: number; top: number; bottom: number; pixels: number[][] };

/** Groups of off-line pixels, split where a run of columns holds none (the emoji here are in different columns), top first. */
async function emojiBoxes(bytes: Buffer): Promise<Box[]> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const columns = new Map<number, number[][]>();
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      const i = (y * info.width + x) * 3;
      const px = [data[i]!, data[i + 1]!, data[i + 2]!];
      if (!offLine(px[0]!, px[1]!, px[2]!)) continue;
      const column = columns.get(x) ?? [];
      column.push([x, y, ...px]);
      columns.set(x, column);
    }
  }
  const boxes: Box[] = [];
  for (const x of [...columns.keys()].sort((a, b) => a - b)) {
    const last = boxes.at(-1);
    const pixels = columns.get(x)!;
    if (!last || x - last.right > 4) {
      boxes.push({ left: x, right: x, top: Number.POSITIVE_INFINITY, bottom: 0, pixels: [] });
    }
    const box = boxes.at(-1)!;
    box.right = x;
    for (const p of pixels) {
      box.top = Math.min(box.top, p[1]!);
      box.bottom = Math.max(box.bottom, p[1]!);
      box.pixels.push(p);
    }
  }
  return boxes.sort((a, b) => a.top - b.top);
}

describe("colour emoji on cards (Noto Color Emoji, scaled to the text's size, RGBA text path)", () => {
  it("a skin-toned thumb and a ZWJ family are drawn in colour, one glyph each, at the text's size", async () => {
    const card = await renderCard(input());
    const size = card.fontSize;
    expect(size).toBeLessThanOrEqual(60);
    const boxes = await emojiBoxes(card.bytes);
    // Two emoji, two boxes: the skin tone is not a separate swatch, the family not three people.
    expect(boxes.map((b) => [b.left, b.top, b.right - b.left + 1, b.bottom - b.top + 1])).toHaveLength(2);
    for (const box of boxes) {
      const height = box.bottom - box.top + 1;
      const width = box.right - box.left + 1;
      // Noto Color Emoji's bitmaps are 1.17 em tall and 1.25 em wide; unscaled they would be 128 px.
      expect(height).toBeGreaterThan(size * 0.85);
      expect(height).toBeLessThan(size * 1.3);
      expect(width).toBeLessThan(size * 1.4);
    }
    const [thumb, family] = boxes as [Box, Box];
    // The thumb in its medium skin tone: saturated warm pixels (red > green > blue), not the blue text.
    const warm = thumb.pixels.filter(([, , r, g, b]) => r! - b! > 60 && r! > g! && g! > b!);
    expect(warm.length).toBeGreaterThan(size * size * 0.2);
    // The family: dark silhouettes on a light grey tile, neither of which the blue text can make.
    const dark = family.pixels.filter(([, , r, g, b]) => r! < 80 && g! < 80 && b! < 80);
    const grey = family.pixels.filter(([, , r, g, b]) => r! > 150 && Math.abs(r! - g!) < 20 && b! < 245);
    expect(dark.length).toBeGreaterThan(size * size * 0.1);
    expect(grey.length).toBeGreaterThan(size * size * 0.1);
  });

  it("text around emoji keeps the brand's text colour, and a card without emoji has no colour of its own", async () => {
    const card = await renderCard(input());
    const { data } = await sharp(card.bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    let blue = 0;
    for (let i = 0; i < data.length; i += 3)
      if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 255) blue++;
    expect(blue).toBeGreaterThan(5000);
    const plain = await renderCard(input({ quote: QUOTE.replace(/ 👍🏽| 👨‍👩‍👧/gu, "") }));
    expect(await emojiBoxes(plain.bytes)).toEqual([]);
  });

  it("right-to-left cards carry emoji too", async () => {
    const card = await renderCard(
      input({
        locale: "ar",
        direction: "rtl",
        quote: "قالوا لنا إنها الجنة 👍🏽 ثم رأت عائلتي 👨‍👩‍👧 الحقيقة",
      }),
    );
    expect(await emojiBoxes(card.bytes)).toHaveLength(2);
  });

  it("the size model measures an emoji cluster as one glyph of the width Pango draws", async () => {
    await ensureFonts();
    const latin = face("latin", "regular");
    const text = "a 👍🏽 b 👨‍👩‍👧 c 🇫🇷 d";
    const size = 100;
    const layer = await renderText({
      markup: toMarkup(text, "ltr"),
      face: latin,
      size,
      width: 5000,
      colour: [0, 0, 255],
    });
    expect(layer.rgba).toBe(true);
    // The model's width (a sum of advances) agrees with the ink's width within 5%.
    const prepared = prepare(text, latin);
    const scale = size / latin.metrics.unitsPerEm;
    let advance = 0;
    for (const w of prepared.paragraphs[0]!) {
      for (const a of w.advances) advance += Math.round(a * scale);
      for (const a of w.trailing) advance += Math.round(a * scale);
    }
    expect(Math.abs(advance - layer.width) / layer.width).toBeLessThan(0.05);
  });

  it("text without emoji stays on the one-band mask path", async () => {
    await ensureFonts();
    const layer = await renderText({
      markup: toMarkup("No emoji here, © 2015 #WhyTheyLeft", "ltr"),
      face: face("latin", "regular"),
      size: 40,
      width: 1000,
      colour: [0, 0, 255],
    });
    expect(layer.rgba).toBeUndefined();
    expect(layer.data.length).toBe(layer.width * layer.height);
  });

  it("emoji no longer count as missing; a private-use character still fails with missing_glyph", async () => {
    await expect(renderCard(input({ quote: "Home 🏠 at last 🇹🇷 1️⃣" }))).resolves.toBeTruthy();
    const err = await renderCard(input({ quote: "Home 🏠 \uE000" })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CardError);
    expect((err as CardError).reason).toBe("missing_glyph");
    expect((err as CardError).message).toBe("U+E000 is in no shipped font (it would print as a box)");
  });
});
