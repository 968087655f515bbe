import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createCampaign } from "../../src/app/campaigns.service.js";
import { importQuotes, importSpeakers } from "../../src/app/import.service.js";
import { composeOutput } from "../../src/app/render.service.js";
import type { Format } from "../../src/domain/campaign.js";
import { SUPPORTED_LANGUAGES } from "../../src/domain/catalogue/index.js";
import { loadTextTemplates } from "../../src/render/text/text.render.js";
import { testStore } from "../support/redis.js";

/**
 * The sample campaign set to all six locales: every sample quote (English, and the Arabic, French,
 * German, Russian and Turkish translations) composes its card and text variants through the
 * workers' own code, with the speaker's attribution in the quote's locale.
 */
const SAMPLE = path.resolve("assets/sample");
const t = testStore("sample-locales");
afterAll(() => t.cleanup({ afterWorkers: false }));

async function sampleInSixLocales() {
  await importSpeakers(t.store, await readFile(path.join(SAMPLE, "speakers.csv")), "speakers.csv", "staff1");
  for (const file of ["quotes.csv", "quotes-translations.csv"]) {
    await importQuotes(t.store, await readFile(path.join(SAMPLE, file)), file, "staff1");
  }
  const raw = JSON.parse(await readFile(path.join(SAMPLE, "campaign.json"), "utf8"));
  raw.brand.logo = path.join(SAMPLE, raw.brand.logo);
  raw.locales = [...SUPPORTED_LANGUAGES];
  return (await createCampaign(t.store, raw, "staff1")).campaign;
}

describe("the sample campaign in all six locales", () => {
  it("has every sample quote in every locale, and renders each with the attribution in its locale", async () => {
    const campaign = await sampleInSixLocales();
    const templates = loadTextTemplates();
    const quotes = await t.store.quotes.list();
    const byLocale: Record<string, typeof quotes> = {};
    for (const q of quotes) byLocale[q.locale] = [...(byLocale[q.locale] ?? []), q];
    for (const lang of SUPPORTED_LANGUAGES) expect(byLocale[lang]?.length, lang).toBe(5);

    const attributions = new Map<string, string>();
    for (const quote of quotes) {
      const speaker = (await t.store.speakers.get(quote.speakerId))!.value;
      // Every quote on the square card; the longest of each locale on every other format too.
      const longest = byLocale[quote.locale]!.reduce((a, b) => (b.text.length > a.text.length ? b : a));
      const formats: Format[] =
        quote.id === longest.id ? ["square", "portrait", "story", "landscape"] : ["square"];
      for (const format of formats) {
        const { view, variants, card } = await composeOutput(
          { store: t.store, templates },
          { quote, speaker, campaign, format },
        );
        expect(card.bytes.length, `${quote.id} ${format}`).toBeGreaterThan(1000);
        expect(Object.keys(variants).sort()).toEqual(["alt_text", "caption", "post"]);
        attributions.set(`${quote.speakerId}/${quote.locale}`, view.attribution);
      }
    }
    expect(attributions.get("british-fighter/fr")).toBe("Un ancien combattant britannique");
    expect(attributions.get("british-fighter/de")).toBe("Ein ehemaliger britischer Kämpfer");
    expect(attributions.get("leena/ru")).toBe("Лина");
    expect(attributions.get("india-defector/tr")).toBe("Hindistanlı bir eski militan");
    expect(attributions.get("british-fighter/ar")).toBe("مقاتل بريطاني سابق");
  }, 60_000);

  it("each speaker has a description in every locale", async () => {
    await importSpeakers(
      t.store,
      await readFile(path.join(SAMPLE, "speakers.csv")),
      "speakers.csv",
      "staff1",
    );
    for (const id of ["india-defector", "british-fighter", "leena", "icsr-defectors"]) {
      const speaker = (await t.store.speakers.get(id))!.value;
      for (const lang of SUPPORTED_LANGUAGES.filter((l) => l !== speaker.locale)) {
        expect(speaker.localized?.[lang]?.description, `${id} ${lang}`).toBeTruthy();
        expect(speaker.localized?.[lang]?.pseudonym, `${id} ${lang}`).toBeTruthy();
      }
    }
  });
});
