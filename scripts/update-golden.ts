/**
 * Regenerates the golden card(s) that test/render/card.test.ts compares against (decoded pixels,
 * with a tolerance). Run after an intended change to the card design, then LOOK at the images:
 *
 *   npx tsx scripts/update-golden.ts
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { CATALOGUES, SUPPORTED_LANGUAGES, type SupportedLanguage } from "../src/domain/catalogue/index.js";
import { directionOf } from "../src/domain/locale.js";
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

/** One card per supported locale: the quote in its language, the catalogue's anonymous attribution. */
export const LOCALE_QUOTES: Record<SupportedLanguage, string> = {
  en: "The Islamic State is not protecting Muslims. It is killing them. I saw it in 2015 #WhyTheyLeft",
  ar: ARABIC_QUOTE,
  fr: "L’État islamique ne protège pas les musulmans. Il les tue. Je l’ai vu en 2015 #WhyTheyLeft",
  de: "Der Islamische Staat schützt die Muslime nicht. Er tötet sie. Ich habe es 2015 gesehen #WhyTheyLeft",
  ru: "Исламское государство не защищает мусульман. Оно их убивает. Я видел это в 2015 году #WhyTheyLeft",
  tr: "İslam Devleti Müslümanları korumuyor. Onları öldürüyor. Bunu 2015’te gördüm #WhyTheyLeft",
};

export async function localeGoldenInput(lang: SupportedLanguage): Promise<CardInput> {
  return {
    ...(await arabicGoldenInput()),
    locale: lang,
    direction: directionOf(lang),
    quote: LOCALE_QUOTES[lang],
    attribution: CATALOGUES[lang].anonymous,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const card = await renderCard(await arabicGoldenInput());
  const file = `${GOLDEN_DIR}arabic-square.png`;
  writeFileSync(file, card.bytes);
  console.log(`wrote ${file} (${card.width}×${card.height}, quote at ${card.fontSize} px)`);
  for (const lang of SUPPORTED_LANGUAGES) {
    const card = await renderCard(await localeGoldenInput(lang));
    const file = `${GOLDEN_DIR}locale-${lang}-square.png`;
    writeFileSync(file, card.bytes);
    console.log(`wrote ${file} (${card.width}×${card.height}, quote at ${card.fontSize} px)`);
  }
}
