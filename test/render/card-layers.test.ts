import zlib from "node:zlib";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { FORMAT_NAMES } from "../../src/domain/campaign.js";
import { acquireCanvas, baseLayer, drawBaseLayer, releaseCanvas } from "../../src/render/card/base-layer.js";
import { type Canvas, fillRect, paintLayer } from "../../src/render/card/blend.js";
import { normaliseBrandImage } from "../../src/render/card/brand-image.js";
import { type CardInput, renderCard } from "../../src/render/card/card.render.js";
import { packedRgb } from "../../src/render/card/encode.js";
import { layoutFor } from "../../src/render/card/layout.js";
import { PNG_LEVEL, writePng } from "../../src/render/card/png.js";

const LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"><circle cx="100" cy="100" r="96" fill="#f2c14e"/></svg>`;
const OTHER_LOGO_SVG = LOGO_SVG.replace("#f2c14e", "#4ec1f2");

const decode = async (png: Buffer) => {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
};

/** Chunk types of a PNG file, in order. */
function chunkTypes(png: Buffer): string[] {
  const types: string[] = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    types.push(png.toString("latin1", at + 4, at + 8));
    at += 12 + length;
  }
  return types;
}

describe("base layer cache", () => {
  it("gives the same pixels as a base drawn afresh, for every format and direction", async () => {
    const logoPng = await normaliseBrandImage(Buffer.from(LOGO_SVG));
    for (const format of FORMAT_NAMES) {
      for (const direction of ["ltr", "rtl"] as const) {
        const req = {
          layout: layoutFor(format),
          direction,
          top: [19, 41, 75],
          bottom: [10, 23, 48],
          logoPng,
        } as const;
        const cached = await baseLayer(req);
        expect(await baseLayer(req)).toBe(cached); // a hit
        expect(cached.data.equals((await drawBaseLayer(req)).data)).toBe(true);
      }
    }
  });

  it("a brand change (colours or logo) gets a base of its own", async () => {
    const logoPng = await normaliseBrandImage(Buffer.from(LOGO_SVG));
    const otherLogo = await normaliseBrandImage(Buffer.from(OTHER_LOGO_SVG));
    const req = {
      layout: layoutFor("square"),
      direction: "ltr",
      top: [19, 41, 75],
      bottom: [10, 23, 48],
      logoPng,
    } as const;
    const first = await baseLayer(req);
    const variants = [
      { ...req, top: [20, 41, 75] as const },
      { ...req, bottom: [10, 23, 49] as const },
      { ...req, logoPng: otherLogo },
      // A new Buffer with the same bytes is the same logo: keyed by digest, not identity.
    ];
    for (const variant of variants) {
      const base = await baseLayer(variant);
      expect(base.data.equals(first.data)).toBe(false);
      expect(base.data.equals((await drawBaseLayer(variant)).data)).toBe(true);
    }
    expect(await baseLayer({ ...req, logoPng: Buffer.from(logoPng) })).toBe(first);
  });

  it("cards of two brands rendered in turn each match the card rendered first", async () => {
    const logoPng = await normaliseBrandImage(Buffer.from(LOGO_SVG));
    const otherLogo = await normaliseBrandImage(Buffer.from(OTHER_LOGO_SVG));
    const card = (brand: CardInput["brand"]): CardInput => ({
      format: "square",
      locale: "en",
      direction: "ltr",
      quote: "They promised us paradise. It was a lie.",
      attribution: "A former fighter",
      hashtags: ["#WhyTheyLeft"],
      brand,
      encoding: "png",
    });
    const a = card({
      background: { from: "#13294b", to: "#0a1730" },
      text: "#ffffff",
      accent: "#f2c14e",
      logoPng,
    });
    const b = card({ background: "#3a0d0d", text: "#ffffff", accent: "#f2c14e", logoPng: otherLogo });
    const firstA = (await renderCard(a)).bytes;
    const firstB = (await renderCard(b)).bytes;
    expect(firstA.equals(firstB)).toBe(false);
    for (let i = 0; i < 2; i++) {
      expect((await renderCard(a)).bytes.equals(firstA)).toBe(true);
      expect((await renderCard(b)).bytes.equals(firstB)).toBe(true);
    }
  });
  it("a recycled canvas is reset to its base: a card after a different card of the same brand is the card drawn on a fresh copy", async () => {
    const logoPng = await normaliseBrandImage(Buffer.from(LOGO_SVG));
    // Colours no other test uses, so the first card of each format starts from a freshly copied base.
    const brand = {
      background: { from: "#123456", to: "#0b1f33" },
      text: "#fafafa",
      accent: "#e0b040",
      logoPng,
    };
    const card = (
      format: CardInput["format"],
      quote: string,
      direction: "ltr" | "rtl" = "ltr",
    ): CardInput => ({
      format,
      locale: direction === "rtl" ? "ar" : "en",
      direction,
      quote,
      attribution: direction === "rtl" ? "مقاتل سابق" : "A former fighter from somewhere far away",
      hashtags: ["#WhyTheyLeft", "#Testimony"],
      brand,
      encoding: "png",
    });
    const long =
      "We were told we would build something. We built nothing. We burned what others had built, and every day we were told it was for a reason nobody could say out loud. 🙏";
    for (const format of FORMAT_NAMES) {
      for (const [short, direction] of [
        ["It was a lie.", "ltr"],
        ["كانت كذبة.", "rtl"],
      ] as const) {
        const b = card(format, short, direction);
        const fresh = (await renderCard(b)).bytes; // first card of this base: a full copy
        await renderCard(card(format, long, direction)); // paints where b does not
        expect((await renderCard(b)).bytes.equals(fresh)).toBe(true);
        expect((await renderCard(b)).bytes.equals(fresh)).toBe(true);
      }
    }
  });
});

describe("PNG writer", () => {
  it("decodes to exactly the canvas's pixels, as sharp's own PNG of the same pixels does", async () => {
    const base = await baseLayer({
      layout: layoutFor("portrait"),
      direction: "rtl",
      top: [19, 41, 75],
      bottom: [10, 23, 48],
      logoPng: await normaliseBrandImage(Buffer.from(LOGO_SVG)),
    });
    const canvas: Canvas = acquireCanvas(base);
    try {
      // Every coverage value, so each blend rounding reaches the file.
      const mask = {
        data: Buffer.from(Array.from({ length: 256 * 40 }, (_, i) => i % 256)),
        width: 256,
        height: 40,
      };
      paintLayer(canvas, mask, 100, 300, [255, 255, 255]);
      paintLayer(canvas, mask, canvas.width - 200, 600, [242, 193, 78], 0.82);
      fillRect(canvas, canvas.width - 30, 0, 100, 50, [1, 2, 3]);
      const png = await writePng(canvas);
      const ours = await decode(png);
      expect([ours.width, ours.height, ours.channels]).toEqual([canvas.width, canvas.height, 3]);
      const pixels = packedRgb(canvas);
      expect(ours.data.equals(pixels)).toBe(true);
      const viaSharp = await sharp(pixels, {
        raw: { width: canvas.width, height: canvas.height, channels: 3 },
      })
        .png()
        .toBuffer();
      expect(ours.data.equals((await decode(viaSharp)).data)).toBe(true);
      expect(chunkTypes(png)).toEqual(["IHDR", "IDAT", "IEND"]);
      // The IDAT is one complete zlib stream of the canvas's scanlines, as zlib writes it in one call.
      const idatLength = png.readUInt32BE(33);
      expect(
        png.subarray(41, 41 + idatLength).equals(zlib.deflateSync(canvas.data, { level: PNG_LEVEL })),
      ).toBe(true);
      expect((await writePng(canvas)).equals(png)).toBe(true); // deterministic
    } finally {
      releaseCanvas(canvas);
    }
  });

  it("every chunk's CRC is right (a strict decoder would refuse the file otherwise)", async () => {
    const base = await baseLayer({
      layout: layoutFor("square"),
      direction: "ltr",
      top: [0, 0, 0],
      bottom: [255, 255, 255],
    });
    const png = await writePng(base);
    for (let at = 8; at < png.length; ) {
      const length = png.readUInt32BE(at);
      const crc = png.readUInt32BE(at + 8 + length);
      expect(crc).toBe(zlib.crc32(png.subarray(at + 4, at + 8 + length)));
      at += 12 + length;
    }
  });

  it("refuses a canvas whose buffer does not match its size", async () => {
    await expect(writePng({ data: Buffer.alloc(10), width: 4, height: 4 })).rejects.toThrow(/expected 52/);
  });
});
