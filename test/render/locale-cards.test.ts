import { readFileSync } from "node:fs";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { GOLDEN_DIR, localeGoldenInput } from "../../scripts/update-golden.js";
import { SUPPORTED_LANGUAGES } from "../../src/domain/catalogue/index.js";
import { CardError, renderCard } from "../../src/render/card/card.render.js";

type Raw = { data: Buffer; width: number; height: number };
const decode = async (bytes: Buffer): Promise<Raw> => {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
};

/** Mean absolute difference per channel, and the share of pixels that differ by more than 64 in any channel. */
function compare(a: Raw, b: Raw) {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  let sum = 0;
  let far = 0;
  for (let i = 0; i < a.data.length; i += 3) {
    let worst = 0;
    for (let c = 0; c < 3; c++) {
      const d = Math.abs(a.data[i + c]! - b.data[i + c]!);
      sum += d;
      worst = Math.max(worst, d);
    }
    if (worst > 64) far++;
  }
  return { mean: sum / a.data.length, farShare: far / (a.data.length / 3) };
}

describe("a card per locale (Noto Sans: Latin with Turkish, Cyrillic; Noto Naskh Arabic)", () => {
  it.each(SUPPORTED_LANGUAGES)(
    "%s: matches its golden card (decoded pixels, with tolerance)",
    async (lang) => {
      const card = await renderCard(await localeGoldenInput(lang));
      expect([card.width, card.height]).toEqual([1080, 1080]);
      const golden = await decode(readFileSync(`${GOLDEN_DIR}locale-${lang}-square.png`));
      const { mean, farShare } = compare(await decode(card.bytes), golden);
      expect(mean).toBeLessThan(2);
      expect(farShare).toBeLessThan(0.005);
    },
  );

  it("the goldens differ between locales: the comparison can tell one language from another", async () => {
    const ru = await decode(readFileSync(`${GOLDEN_DIR}locale-ru-square.png`));
    const tr = await decode(readFileSync(`${GOLDEN_DIR}locale-tr-square.png`));
    expect(compare(ru, tr).farShare).toBeGreaterThan(0.005);
  });
});

describe("a character no shipped font has fails the card with missing_glyph, never a box", () => {
  const refused = async (quote: string, where: "quote" | "attribution" = "quote") => {
    const input = await localeGoldenInput("en");
    const err = await renderCard(
      where === "quote" ? { ...input, quote } : { ...input, attribution: quote },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CardError);
    expect((err as CardError).reason).toBe("missing_glyph");
    return (err as CardError).message;
  };
  it("names a private-use code point", async () => {
    expect(await refused("I left \uE000 that night")).toBe(
      "U+E000 is in no shipped font (it would print as a box)",
    );
  });
  it("names a code point outside the Basic Multilingual Plane, in the attribution too", async () => {
    expect(await refused("Gothic \u{10330}", "attribution")).toMatch(/^U\+10330 is in no shipped font/);
  });
  it("renders zero-width joiners, isolates and variation selectors without complaint", async () => {
    const input = await localeGoldenInput("en");
    await expect(renderCard({ ...input, quote: "a\u200Db \u2068c\u2069 d\uFE0E" })).resolves.toBeTruthy();
  });
});
