import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CATALOGUES, type Catalogue, SUPPORTED_LANGUAGES } from "../../src/domain/catalogue/index.js";
import { publicationView } from "../../src/domain/publication.js";
import { LIMITS } from "../../src/domain/text-limits.js";
import { loadTextTemplates, templateLanguages } from "../../src/render/text/text.render.js";
import { CHROMIUM, haveChromium, launchChromium } from "../support/browser.js";
import { aCampaign, aQuote, aSpeaker } from "../support/builders.js";

const NOW = new Date("2026-11-22T00:00:00Z");
const templates = loadTextTemplates();

/** Every leaf key of a catalogue, dotted: "narrative.brutality", "quoteMarks.0". */
const keysOf = (o: object, prefix = ""): string[] =>
  Object.entries(o).flatMap(([k, v]) =>
    v && typeof v === "object" ? keysOf(v, `${prefix}${k}.`) : [`${prefix}${k}`],
  );

const SPEAKER = aSpeaker("s1", {
  pseudonym: "A British former fighter",
  localized: {
    ar: { pseudonym: "مقاتل بريطاني سابق" },
    fr: { pseudonym: "Un ancien combattant britannique" },
    de: { pseudonym: "Ein ehemaliger britischer Kämpfer" },
    ru: { pseudonym: "Бывший британский боевик" },
    tr: { pseudonym: "İngiliz bir eski savaşçı" },
  },
});
const QUOTES: Record<string, string> = {
  en: "This is not a holy war",
  ar: "هذه ليست حربًا مقدسة",
  fr: "Ce n’est pas une guerre sainte",
  de: "Das ist kein heiliger Krieg",
  ru: "Это не священная война",
  tr: "Bu kutsal bir savaş değil",
};
const view = (locale: string, text = QUOTES[locale]!, speaker = SPEAKER) =>
  publicationView(aQuote("q1", "s1", { locale, text }), speaker, aCampaign(), NOW);

describe("six locales: a catalogue and three templates each", () => {
  it("every catalogue has every key of every other, none empty", () => {
    const expected = keysOf(CATALOGUES.en).sort();
    expect(SUPPORTED_LANGUAGES).toEqual(["en", "ar", "fr", "de", "ru", "tr"]);
    for (const [lang, catalogue] of Object.entries(CATALOGUES) as [string, Catalogue][]) {
      expect(keysOf(catalogue).sort(), lang).toEqual(expected);
      for (const key of expected) {
        const value = key.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], catalogue);
        expect(String(value).trim(), `${lang}: ${key}`).not.toBe("");
      }
    }
  });

  it("every catalogued language has post, caption and alt_text templates, and no template lacks a catalogue", () => {
    const have = templateLanguages();
    for (const lang of SUPPORTED_LANGUAGES)
      expect((have.get(lang) ?? []).sort(), `templates for ${lang}`).toEqual(["alt_text", "caption", "post"]);
    expect([...have.keys()].sort()).toEqual([...SUPPORTED_LANGUAGES].sort());
  });

  it.each(SUPPORTED_LANGUAGES)(
    "%s: the attribution, narrative and date in the locale, every variant within its limit",
    (lang) => {
      const v = view(lang);
      expect(v.attribution).toBe(
        lang === "en" ? "A British former fighter" : SPEAKER.localized![lang]!.pseudonym,
      );
      expect(v.narrative.label).toBe(CATALOGUES[lang].narrative.corruption);
      for (const variant of ["post", "caption", "alt_text"] as const) {
        const text = templates.render(variant, v);
        expect(text).toContain(`\u2068${QUOTES[lang]}\u2069`);
        expect(text).toContain(`\u2068${v.attribution}\u2069`);
        expect(text.length).toBeLessThanOrEqual(LIMITS[variant].chars);
      }
    },
  );

  it("dates follow the locale (Intl), whatever the host's time zone", () => {
    const caption = (lang: string) => templates.render("caption", view(lang));
    expect(caption("fr")).toContain("21 septembre 2015");
    expect(caption("de")).toContain("21. September 2015");
    expect(caption("ru")).toContain("21 сентября 2015");
    expect(caption("tr")).toContain("21 Eylül 2015");
    expect(caption("fr")).toContain("«\u202f\u2068Ce n’est pas une guerre sainte\u2069\u202f»");
  });

  it("a language with no templates fails with reason template, never English wording", () => {
    const persian = aSpeaker("s1", { localized: { fa: { pseudonym: "یک جنگجو" } } });
    expect(() => templates.render("post", view("fa", "این جنگ مقدس نیست", persian))).toThrow(
      /no post template for fa/,
    );
  });

  it("case changes follow the language: Turkish dotted İ", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "tm-tpl-"));
    await writeFile(path.join(dir, "post.tr.hbs"), "{{upper quote.text}} {{number 1234.5}}");
    await writeFile(path.join(dir, "post.de.hbs"), "{{number 1234.5}}");
    await writeFile(path.join(dir, "post.en.hbs"), "{{number 1234.5}}");
    const t = loadTextTemplates(dir);
    expect(t.render("post", view("tr", "istanbul'da bir gün"))).toBe("İSTANBUL'DA BİR GÜN 1.234,5");
    expect(t.render("post", view("de"))).toBe("1.234,5");
    // Number formats are kept per locale: the next language must not reuse the previous one's.
    expect(t.render("post", view("en"))).toBe("1,234.5");
  });
});

describe("Latin runs in an Arabic post keep their order", () => {
  it("isolates a hashtag, a URL and a year inside the Arabic quote, each on its own", () => {
    const post = templates.render(
      "post",
      view("ar", "غادرت في 2015، وكتبت #WhyTheyLeft على https://example.org/why."),
    );
    expect(post).toContain(
      "\u2068غادرت في \u20682015\u2069، وكتبت \u2068#WhyTheyLeft\u2069 على \u2068https://example.org/why\u2069.\u2069",
    );
  });
  it("isolates an Arabic phrase inside an English quote", () => {
    expect(templates.render("post", view("en", "They shouted الله أكبر and fired."))).toContain(
      "\u2068They shouted \u2068الله أكبر\u2069 and fired.\u2069",
    );
  });
});

if (!haveChromium) console.warn(`browser tests skipped: ${CHROMIUM} is absent (CI installs it)`);

describe.skipIf(!haveChromium)("an Arabic post in Chromium reads in the right visual order", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  /** The post as Chromium lays it out in a right-to-left paragraph, read left to right on screen. */
  async function visualOrder(text: string): Promise<string> {
    const page = await browser.newPage();
    try {
      await page.setContent('<div id="p" dir="rtl" style="font-size:20px;white-space:pre"></div>');
      return await page.evaluate((t) => {
        const p = document.getElementById("p")!;
        // One span per character, isolates included (inline spans leave the paragraph's bidi alone);
        // bidi reordering moves the spans, so their x gives the visual order.
        for (const c of Array.from(t)) {
          const span = document.createElement("span");
          span.textContent = c;
          p.append(span);
        }
        return Array.from(p.children)
          .filter((s) => !/[\u2066-\u2069\u200e\u200f]/.test(s.textContent!))
          .map((s) => ({ c: s.textContent!, x: s.getBoundingClientRect().left }))
          .sort((a, b) => a.x - b.x)
          .map((s) => s.c)
          .join("");
      }, text);
    } finally {
      await page.close();
    }
  }

  it("#WhyTheyLeft, the URL and 2015 read left to right, never WhyTheyLeft#", async () => {
    const quote = "كتبت #WhyTheyLeft على https://example.org/why في 2015";
    const post = templates.render("post", view("ar", quote)).split("\n")[0]!;
    const seen = await visualOrder(post);
    expect(seen).toContain("#WhyTheyLeft");
    expect(seen).toContain("https://example.org/why");
    expect(seen).toContain("2015");
    expect(seen).not.toContain("WhyTheyLeft#");
    // Without the isolates the same words come out scrambled: the test can tell.
    const bare = await visualOrder(quote);
    expect(bare).not.toContain("#WhyTheyLeft");
  }, 60_000);
});
