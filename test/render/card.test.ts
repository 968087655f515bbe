import { readFileSync } from "node:fs";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { ARABIC_QUOTE, arabicGoldenInput, GOLDEN_DIR } from "../../scripts/update-golden.js";
import { ENCODINGS, FORMAT_NAMES, FORMATS, type Format } from "../../src/domain/campaign.js";
import { normaliseBrandImage } from "../../src/render/card/brand-image.js";
import { CardError, type CardInput, MIN_QUOTE_PX, renderCard } from "../../src/render/card/card.render.js";
import { layoutFor } from "../../src/render/card/layout.js";
import { toMarkup } from "../../src/render/card/pango.js";

const BG = [0x13, 0x29, 0x4b] as const;
const BRAND = { background: "#13294b", text: "#ffffff", accent: "#f2c14e" };
const SHORT = "They promised us paradise. It was a lie.";
const SENTENCES =
  "I joined because they promised justice, a state for Muslims, dignity. What I found was cruelty: men beaten " +
  "in the street for smoking, children taught to behead dolls, and commanders who lived in villas while we went " +
  "hungry. In 2015 I watched a friend executed for asking to go home. That was the day I understood it was all a " +
  "lie, and I started planning my escape across the border with my wife and our two children. ";
const LONG = `${SENTENCES.repeat(3).slice(0, 899).trimEnd()}.`.padEnd(900, ".");

const input = (over: Partial<CardInput> = {}): CardInput => ({
  format: "square",
  locale: "en",
  direction: "ltr",
  quote: SHORT,
  attribution: "A British former fighter",
  hashtags: ["#WhyTheyLeft", "#DefectorVoices"],
  brand: BRAND,
  encoding: "png",
  ...over,
});

type Raw = { data: Buffer; width: number; height: number };
const decode = async (bytes: Buffer): Promise<Raw> => {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
};

/** Bounding box of every pixel that is not the solid background. */
function inkBox({ data, width, height }: Raw, bg: readonly number[] = BG) {
  let left = width;
  let top = height;
  let right = -1;
  let bottom = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      if (
        Math.abs(data[i]! - bg[0]!) + Math.abs(data[i + 1]! - bg[1]!) + Math.abs(data[i + 2]! - bg[2]!) >
        12
      ) {
        left = Math.min(left, x);
        right = Math.max(right, x);
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
      }
    }
  }
  return { left, top, right, bottom };
}

/** How many pixels are not the solid background (text, mark, rule). */
function inkPixels({ data }: Raw, bg: readonly number[] = BG) {
  let n = 0;
  for (let i = 0; i < data.length; i += 3) {
    if (Math.abs(data[i]! - bg[0]!) + Math.abs(data[i + 1]! - bg[1]!) + Math.abs(data[i + 2]! - bg[2]!) > 12)
      n++;
  }
  return n;
}

/** Mean absolute difference per channel, and the share of pixels with a channel off by more than 32. */
function compare(a: Raw, b: Raw) {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  let sum = 0;
  let far = 0;
  for (let p = 0; p < a.data.length; p += 3) {
    let worst = 0;
    for (let c = 0; c < 3; c++) {
      const d = Math.abs(a.data[p + c]! - b.data[p + c]!);
      sum += d;
      worst = Math.max(worst, d);
    }
    if (worst > 32) far++;
  }
  return { mean: sum / a.data.length, farShare: far / (a.data.length / 3) };
}

describe("renderCard: sizes and metadata", () => {
  for (const format of FORMAT_NAMES) {
    it(`${format}: exact size and no metadata in png, jpeg, webp`, async () => {
      for (const encoding of ENCODINGS) {
        const card = await renderCard(input({ format, encoding }));
        const meta = await sharp(card.bytes).metadata();
        expect(meta.format).toBe(encoding);
        expect([meta.width, meta.height]).toEqual([FORMATS[format].width, FORMATS[format].height]);
        expect([card.width, card.height, card.encoding]).toEqual([meta.width, meta.height, encoding]);
        expect(meta.exif).toBeUndefined();
        expect(meta.xmp).toBeUndefined();
        expect(meta.icc).toBeUndefined();
      }
    });
  }
});

describe("renderCard: fitting", () => {
  it("a 40- and a 900-character quote both render; the long one smaller, with more ink", async () => {
    expect([SHORT.length, LONG.length]).toEqual([40, 900]);
    const short = await renderCard(input({ quote: SHORT }));
    const long = await renderCard(input({ quote: LONG }));
    const { quote } = layoutFor("square");
    // The short quote grows to the format's largest size; the long one shrinks but stays readable.
    expect(short.fontSize).toBe(quote.maxSize);
    expect(long.fontSize).toBeLessThan(short.fontSize);
    expect(long.fontSize).toBeGreaterThanOrEqual(MIN_QUOTE_PX);
    const [a, b] = [await decode(short.bytes), await decode(long.bytes)];
    expect([a.width, a.height, b.width, b.height]).toEqual([1080, 1080, 1080, 1080]);
    expect(compare(a, b).farShare).toBeGreaterThan(0.02);
    // 22 times the characters at a smaller size: clearly more text drawn, not the short card again.
    expect(inkPixels(b)).toBeGreaterThan(2 * inkPixels(a));
  });

  for (const format of FORMAT_NAMES) {
    it(`${format}: text stays in the safe area; the long quote gets a smaller size`, async () => {
      const safe = layoutFor(format).safe;
      const sizes: number[] = [];
      for (const quote of [SHORT, LONG]) {
        const card = await renderCard(input({ format, quote }));
        const box = inkBox(await decode(card.bytes));
        expect(box.left).toBeGreaterThanOrEqual(safe.left);
        expect(box.top).toBeGreaterThanOrEqual(safe.top);
        expect(box.right).toBeLessThan(safe.left + safe.width);
        expect(box.bottom).toBeLessThan(safe.top + safe.height);
        expect(card.fontSize).toBeGreaterThanOrEqual(MIN_QUOTE_PX);
        sizes.push(card.fontSize);
      }
      expect(sizes[1]).toBeLessThan(sizes[0]!);
    });
  }

  it("throws cannot_fit for a quote that does not fit at the minimum size", async () => {
    const quote = "Incomprehensibilities notwithstanding, ".repeat(40); // 1,560 characters
    const error = await renderCard(input({ format: "landscape", quote })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CardError);
    expect((error as CardError).reason).toBe("cannot_fit");
    expect((error as CardError).message).toBe(`quote cannot fit in landscape at ≥ ${MIN_QUOTE_PX} px`);
  });

  it("leaves the last hashtags off rather than failing when a campaign has more than fit", async () => {
    const hashtags = Array.from({ length: 30 }, (_, i) => `#DefectorVoicesNumber${i}`);
    const card = await renderCard(input({ hashtags }));
    expect([card.width, card.height, card.encoding]).toEqual([1080, 1080, "png"]);
    const raw = await decode(card.bytes);
    const safe = layoutFor("square").safe;
    const box = inkBox(raw);
    expect(box.bottom).toBeLessThan(safe.top + safe.height);
    expect(box.right).toBeLessThan(safe.left + safe.width);
    // The card is the one the first few hashtags alone give: the first ones drawn, the rest left off.
    let kept = 0;
    for (let n = hashtags.length - 1; n > 0 && !kept; n--) {
      if ((await renderCard(input({ hashtags: hashtags.slice(0, n) }))).bytes.equals(card.bytes)) kept = n;
    }
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(hashtags.length);
    const bare = await decode((await renderCard(input({ hashtags: [] }))).bytes);
    expect(compare(raw, bare).farShare).toBeGreaterThan(0);
  });

  it("is deterministic", async () => {
    const [a, b] = await Promise.all([
      renderCard(input({ quote: LONG })),
      renderCard(input({ quote: LONG })),
    ]);
    expect(a.bytes.equals(b.bytes)).toBe(true);
  });
});

describe("renderCard: Arabic", () => {
  it("matches the golden card (decoded pixels, with tolerance)", async () => {
    const card = await renderCard(await arabicGoldenInput());
    const golden = await decode(readFileSync(`${GOLDEN_DIR}arabic-square.png`));
    const { mean, farShare } = compare(await decode(card.bytes), golden);
    expect(mean).toBeLessThan(2);
    expect(farShare).toBeLessThan(0.005);
  });

  it("is mirrored and right-aligned, and differs clearly from the reversed string", async () => {
    const base = { ...(await arabicGoldenInput()), brand: BRAND };
    const card = await decode((await renderCard(base)).bytes);
    const safe = layoutFor("square").safe;
    // Everything hugs the right edge of the safe area: quote lines, mark, rule, attribution.
    expect(inkBox(card).right).toBeGreaterThan(safe.left + safe.width - 6);
    const top = inkBox({
      ...card,
      data: card.data.subarray(0, safe.top * 2 * card.width * 3),
      height: safe.top * 2,
    });
    expect(top.left).toBeGreaterThan(card.width / 2); // the quotation mark sits top right

    const reversed = await renderCard({ ...base, quote: [...ARABIC_QUOTE].reverse().join("") });
    const { mean, farShare } = compare(card, await decode(reversed.bytes));
    expect(mean).toBeGreaterThan(2);
    expect(farShare).toBeGreaterThan(0.01);
  });
});

describe("renderCard: untrusted text", () => {
  const attacks = [
    '<span foreground="red">x</span>',
    "a & b",
    "</text>",
    '<image href="file:///etc/passwd"/>',
  ];

  it("escapes markup characters before Pango sees them", () => {
    expect(toMarkup('<image href="file:///etc/passwd"/>', "ltr")).toBe(
      "\u200e&lt;image href=&quot;file:///etc/passwd&quot;/&gt;",
    );
    expect(toMarkup("a & b's", "ltr")).toBe("\u200ea &amp; b&#39;s");
  });

  it("renders markup-like quotes literally", async () => {
    for (const quote of attacks) await expect(renderCard(input({ quote }))).resolves.toBeDefined();

    const tags = await decode((await renderCard(input({ quote: "<b>x</b>" }))).bytes);
    const plain = await decode((await renderCard(input({ quote: "x" }))).bytes);
    expect(compare(tags, plain).farShare).toBeGreaterThan(0.01);

    const span = await decode((await renderCard(input({ quote: attacks[0]! }))).bytes);
    let red = 0;
    for (let i = 0; i < span.data.length; i += 3) {
      if (span.data[i]! > 180 && span.data[i + 1]! < 90 && span.data[i + 2]! < 90) red++;
    }
    expect(red).toBe(0);
  });

  it("draws an <image href> as its characters, not a file", async () => {
    // Same characters but a path that does not exist: if anything read the file, the cards would
    // differ in more than one glyph.
    const passwd = await renderCard(input({ quote: '<image href="file:///etc/passwd"/>' }));
    const nowhere = await renderCard(input({ quote: '<image href="file:///etc/passwe"/>' }));
    expect(passwd.fontSize).toBe(nowhere.fontSize);
    const { farShare } = compare(await decode(passwd.bytes), await decode(nowhere.bytes));
    expect(farShare).toBeGreaterThan(0);
    expect(farShare).toBeLessThan(0.005);
  });

  it("refuses a brand that is not #rrggbb", async () => {
    const error = await renderCard(input({ brand: { ...BRAND, text: "red" } })).catch((e: unknown) => e);
    expect((error as CardError).reason).toBe("bad_brand");
  });
});

describe("normaliseBrandImage", () => {
  it("re-encodes a JPEG with EXIF as a PNG without metadata, at most 512 px", async () => {
    const jpeg = await sharp({ create: { width: 1024, height: 768, channels: 3, background: "#c03030" } })
      .jpeg()
      .withMetadata({ exif: { IFD0: { Copyright: "secret-marker" } } })
      .toBuffer();
    expect(jpeg.includes("secret-marker")).toBe(true);
    const png = await normaliseBrandImage(jpeg);
    const meta = await sharp(png).metadata();
    expect(meta.format).toBe("png");
    expect([meta.width, meta.height]).toEqual([512, 384]);
    expect(meta.exif).toBeUndefined();
    expect(meta.icc).toBeUndefined();
    expect(png.includes("secret-marker")).toBe(false);
  });

  it("rasterises an SVG", async () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50"><rect width="100" height="50" fill="#0a0"/></svg>';
    const meta = await sharp(await normaliseBrandImage(Buffer.from(svg))).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["png", 512, 256]);
  });

  it("refuses garbage and SVGs that reach outside", async () => {
    const outside =
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image href="file:///etc/passwd"/></svg>';
    for (const bytes of [Buffer.from("definitely not an image"), Buffer.from(outside), Buffer.alloc(0)]) {
      const error = await normaliseBrandImage(bytes).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CardError);
      expect((error as CardError).reason).toBe("bad_brand");
    }
  });
});

describe("renderCard: logo", () => {
  it("puts the logo in the bottom corner on the side opposite the text start", async () => {
    const logoPng = await normaliseBrandImage(
      Buffer.from(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="#ff0000"/></svg>',
      ),
    );
    const redColumns = async (direction: "ltr" | "rtl", format: Format) => {
      const raw = await decode(
        (await renderCard(input({ format, direction, brand: { ...BRAND, logoPng } }))).bytes,
      );
      const xs: number[] = [];
      for (let i = 0; i < raw.data.length; i += 3) {
        if (raw.data[i]! > 200 && raw.data[i + 1]! < 40) xs.push((i / 3) % raw.width);
      }
      return { min: Math.min(...xs), max: Math.max(...xs), width: raw.width };
    };
    const ltr = await redColumns("ltr", "portrait");
    const rtl = await redColumns("rtl", "portrait");
    expect(ltr.min).toBeGreaterThan(ltr.width / 2);
    expect(rtl.max).toBeLessThan(rtl.width / 2);
  });
});
