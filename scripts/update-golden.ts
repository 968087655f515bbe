/**
 * Regenerates the golden card(s) that test/render/card.test.ts compares against (decoded pixels,
 * with a tolerance). Run after an intended change to the card design, then LOOK at the images:
 *
 *   npx tsx scripts/update-golden.ts
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { normaliseBrandImage } from "../src/render/card/brand-image.js";
import { type CardInput, renderCard } from "../src/render/card/card.render.js";

export const GOLDEN_DIR = fileURLToPath(new URL("../test/fixtures/golden/", import.meta.url));

/** A logo made of shapes only (no text), so it does not depend on fonts. */
const LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"><circle cx="100" cy="100" r="96" fill="#f2c14e"/><path d="M60 70h80v16H60zM60 100h80v16H60zM60 130h50v16H60z" fill="#13294b"/></svg>`;

export const ARABIC_QUOTE =
  "الدولة الإسلامية لا تحمي المسلمين. إنها تقتلهم. عرفت ذلك في عام 2015 #WhyTheyLeft";

export async function arabicGoldenInput(): Promise<CardInput> {
  return {
    format: "square",
    locale: "ar",
    direction: "rtl",
    quote: ARABIC_QUOTE,
    attribution: "مقاتل سابق",
    hashtags: ["#WhyTheyLeft", "#DefectorVoices"],
    brand: {
      background: { from: "#13294b", to: "#0a1730" },
      text: "#ffffff",
      accent: "#f2c14e",
      logoPng: await normaliseBrandImage(Buffer.from(LOGO_SVG)),
    },
    encoding: "png",
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const card = await renderCard(await arabicGoldenInput());
  const file = `${GOLDEN_DIR}arabic-square.png`;
  writeFileSync(file, card.bytes);
  console.log(`wrote ${file} (${card.width}×${card.height}, quote at ${card.fontSize} px)`);
}
