import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { importSpeakers } from "../../src/app/import.service.js";
import { queueCampaign } from "../../src/app/queue.service.js";
import { RenderFailure, renderOutput } from "../../src/app/render.service.js";
import { AttributionRefused, attributionFor } from "../../src/domain/publication.js";
import { speakerSchema } from "../../src/domain/speaker.js";
import { closeQueues, createQueues } from "../../src/queues/queues.js";
import { loadTextTemplates } from "../../src/render/text/text.render.js";
import { aCampaign, aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { testStore } from "../support/redis.js";

const NOW = new Date("2026-11-22T12:00:00Z");
const consent = (over = {}) => ({
  state: "granted" as const,
  recordedBy: "staff1",
  recordedAt: "2026-01-01T00:00:00Z",
  scope: { locales: ["en"], channels: [] },
  ...over,
});
const named = (c?: ReturnType<typeof consent>) =>
  aSpeaker("n1", { attribution: "named", publicName: "Real Public Name", consent: c });

describe("named attribution needs consent, in date and in scope", () => {
  it("is refused at import without consent", () => {
    const r = speakerSchema.safeParse({ id: "n1", pseudonym: "P", attribution: "named", publicName: "X" });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join("."))).toContain("consent");
  });
  it("publishes the name while consent holds", () => {
    expect(attributionFor(named(consent()), "en", NOW)).toBe("Real Public Name");
  });
  it("refuses without consent, with expired consent, and outside its scope", () => {
    const cases: [ReturnType<typeof named>, string, RegExp][] = [
      [named(undefined), "en", /no granted consent/],
      [named(consent({ expiresAt: "2026-06-01T00:00:00Z" })), "en", /expired on 2026-06-01/],
      [named(consent()), "ar", /does not cover locale ar/],
    ];
    for (const [speaker, locale, why] of cases) {
      expect(() => attributionFor(speaker, locale, NOW)).toThrow(AttributionRefused);
      expect(() => attributionFor(speaker, locale, NOW)).toThrow(why);
    }
    expect(() =>
      attributionFor(named(consent({ scope: { locales: [], channels: ["x"] } })), "en", NOW, {
        channel: "instagram",
      }),
    ).toThrow(/channel instagram/);
  });
  it("anonymous speakers are 'a former fighter' in the quote's language", () => {
    expect(attributionFor(aSpeaker("a", { attribution: "anonymous" }), "ar-IQ", NOW)).toBe("مقاتل سابق");
    expect(attributionFor(aSpeaker("a", { attribution: "anonymous" }), "en-GB", NOW)).toBe(
      "A former fighter",
    );
  });
});

describe("a render for a named speaker outside consent fails with the reason", () => {
  const t = testStore("attribution");
  const queues = createQueues(t.redis, t.store.keys);
  afterAll(async () => {
    await closeQueues(queues);
    await t.cleanup();
  });
  it("records reason attribution on the output", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "tm-attr-"));
    const templates = loadTextTemplates();
    await saveAll(t.store, {
      campaigns: [aCampaign()],
      speakers: [named(consent({ expiresAt: "2026-06-01T00:00:00Z" }))],
      quotes: [aQuote("q1", "n1")],
    });
    const r = await queueCampaign(t.store, queues, {
      campaignId: "why-they-left",
      actor: "staff1",
      templateVersion: templates.version,
    });
    const deps = { store: t.store, dataDir, templates, log: pino({ level: "silent" }) };
    await expect(renderOutput(deps, r.outputIds[0]!, { number: 1, final: false })).rejects.toBeInstanceOf(
      RenderFailure,
    );
    const o = (await t.store.outputs.get(r.outputIds[0]!))!.value;
    expect(o.status).toBe("failed");
    expect(o.failure).toMatchObject({
      reason: "attribution",
      message: "consent to be named expired on 2026-06-01T00:00:00Z",
    });
  });
});

describe("attribution per locale, never a silent fallback", () => {
  const leena = aSpeaker("leena", {
    pseudonym: "Leena",
    localized: {
      ar: { pseudonym: "لينا", description: "امرأة غادرت التنظيم" },
      "ru-RU": { pseudonym: "Лина" },
    },
  });
  it("takes the pseudonym written for the card's locale, by exact tag then language", () => {
    expect(attributionFor(leena, "en-GB", NOW)).toBe("Leena");
    expect(attributionFor(leena, "ar-IQ", NOW)).toBe("لينا");
    expect(attributionFor(leena, "ru-RU", NOW)).toBe("Лина");
  });
  it("refuses a locale with no attribution with reason attribution_locale, naming what exists", () => {
    const refused = (() => {
      try {
        attributionFor(leena, "fr", NOW);
      } catch (err) {
        return err as AttributionRefused;
      }
    })();
    expect(refused).toBeInstanceOf(AttributionRefused);
    expect(refused?.reason).toBe("attribution_locale");
    expect(refused?.message).toBe(
      "no pseudonym for speaker leena in fr (it has en, ar, ru-RU); add it, or name an attributionFallbackLocale on the campaign",
    );
    // ru-RU is not ru: a Russian card in another region has no attribution either.
    expect(() => attributionFor(leena, "ru", NOW)).toThrow(/no pseudonym for speaker leena in ru/);
  });
  it("uses the campaign's named fallback locale only when it is set", () => {
    expect(attributionFor(leena, "fr", NOW, { fallbackLocale: "en" })).toBe("Leena");
    expect(() => attributionFor(leena, "fr", NOW, { fallbackLocale: "de" })).toThrow(
      /nor in the campaign's fallback locale de/,
    );
  });
  it("a speaker's own fields are in its locale", () => {
    const arabic = aSpeaker("x", { locale: "ar", pseudonym: "أبو محمد", localized: undefined });
    expect(attributionFor(arabic, "ar", NOW)).toBe("أبو محمد");
    expect(() => attributionFor(arabic, "en", NOW)).toThrow(/no pseudonym for speaker x in en \(it has ar\)/);
  });
  it("anonymous wording comes from the locale's catalogue, in all six languages, and nowhere else", () => {
    const anon = aSpeaker("a", { attribution: "anonymous" });
    expect(["en", "ar", "fr", "de", "ru", "tr"].map((l) => attributionFor(anon, l, NOW))).toEqual([
      "A former fighter",
      "مقاتل سابق",
      "Un ancien combattant",
      "Ein ehemaliger Kämpfer",
      "Бывший боевик",
      "Eski bir savaşçı",
    ]);
    expect(() => attributionFor(anon, "fa", NOW)).toThrow(
      /no catalogue wording for an anonymous speaker in fa/,
    );
  });
  it("a named speaker needs the name in the locale as well as consent for it", () => {
    const n = aSpeaker("n2", {
      attribution: "named",
      publicName: "Real Public Name",
      consent: consent({ scope: { locales: ["en", "ar"], channels: [] } }),
      localized: {},
    });
    expect(() => attributionFor(n, "ar", NOW)).toThrow(/no public name for speaker n2 in ar/);
    expect(attributionFor(n, "ar", NOW, { fallbackLocale: "en" })).toBe("Real Public Name");
    // The fallback never widens consent: the card's locale must be in scope.
    expect(() => attributionFor(n, "fr", NOW, { fallbackLocale: "en" })).toThrow(/does not cover locale fr/);
  });
  it("JSON: a localized map's tags are canonicalised, and a tag that is not BCP 47 refused", () => {
    const csvRow = speakerSchema.parse({
      id: "s9",
      pseudonym: "P",
      attribution: "pseudonym",
      localized: { "ar-iq": { pseudonym: "ب" } },
    });
    expect(csvRow.localized).toEqual({ "ar-IQ": { pseudonym: "ب" } });
    const bad = speakerSchema.safeParse({
      id: "s9",
      pseudonym: "P",
      attribution: "pseudonym",
      localized: { english: { pseudonym: "x" } },
    });
    expect(bad.success).toBe(false);
  });
});

describe("a card in a locale the speaker has no attribution in fails with attribution_locale", () => {
  const t = testStore("attribution-locale");
  const queues = createQueues(t.redis, t.store.keys);
  afterAll(async () => {
    await closeQueues(queues);
    await t.cleanup();
  });
  it("the sample speakers import with their Arabic pseudonyms and descriptions (pseudonym_ar, description_ar)", async () => {
    await importSpeakers(t.store, await readFile("assets/sample/speakers.csv"), "speakers.csv", "staff1");
    const s = (await t.store.speakers.get("british-fighter"))!.value;
    expect(s.locale).toBe("en");
    expect(s.localized?.ar).toEqual({
      pseudonym: "مقاتل بريطاني سابق",
      description: "مقاتل بريطاني المولد انشقّ وتحدّث إلى الباحث شيراز ماهر",
    });
    expect(attributionFor(s, "ar", NOW)).toBe("مقاتل بريطاني سابق");
    expect(attributionFor(s, "ru", NOW)).toBe("Бывший британский боевик");
  });
  it("records the reason on the output, and renders once the campaign names a fallback", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "tm-attr-"));
    const templates = loadTextTemplates();
    await saveAll(t.store, {
      campaigns: [aCampaign({ id: "fr-campaign", locales: ["en", "fr"] })],
      speakers: [aSpeaker("s1", { pseudonym: "Leena", localized: {} })],
      quotes: [aQuote("q-fr", "s1", { locale: "fr", text: "Ce n’est pas une guerre sainte" })],
    });
    const r = await queueCampaign(t.store, queues, {
      campaignId: "fr-campaign",
      actor: "staff1",
      templateVersion: templates.version,
    });
    const deps = { store: t.store, dataDir, templates, log: pino({ level: "silent" }) };
    await expect(renderOutput(deps, r.outputIds[0]!, { number: 1, final: false })).rejects.toBeInstanceOf(
      RenderFailure,
    );
    const o = (await t.store.outputs.get(r.outputIds[0]!))!.value;
    expect(o.status).toBe("failed");
    expect(o.failure?.reason).toBe("attribution_locale");
    expect(o.failure?.message).toMatch(/no pseudonym for speaker s1 in fr \(it has en\)/);

    const stored = await t.store.campaigns.get("fr-campaign");
    const withFallback = { ...stored!.value, attributionFallbackLocale: "en" };
    await t.store.campaigns.commit({ writes: [t.store.campaigns.write(withFallback, stored)] });
    const again = await queueCampaign(t.store, queues, {
      campaignId: "fr-campaign",
      actor: "staff1",
      templateVersion: `${templates.version}-fallback`,
    });
    const id = again.outputIds.find((x) => x !== r.outputIds[0])!;
    await renderOutput(deps, id, { number: 1, final: false });
    const ok = (await t.store.outputs.get(id))!.value;
    expect(ok.status).toBe("in_review");
    expect(ok.published?.attribution).toBe("Leena");
  });
});
