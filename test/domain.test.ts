import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type CampaignInput, campaignInputSchema, isValidTimeZone } from "../src/domain/campaign.js";
import { AppError } from "../src/domain/errors.js";
import { ID_PATTERN, idSchema, stableId } from "../src/domain/ids.js";
import { canonicalLocale, directionOf, localeSchema } from "../src/domain/locale.js";
import { NARRATIVES, narrativeSchema } from "../src/domain/narrative.js";
import {
  applyVetting,
  contentChanged,
  type Quote,
  type QuoteImport,
  quoteImportSchema,
} from "../src/domain/quote.js";
import { type SpeakerInput, speakerSchema } from "../src/domain/speaker.js";

type Schema = {
  safeParse(v: unknown): { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } };
};

/** What a refused value is told: `field: message`, one per problem ("" for the whole value). */
function problems(schema: Schema, value: unknown): string[] {
  const r = schema.safeParse(value);
  return r.success ? [] : (r.error?.issues ?? []).map((i) => `${i.path.map(String).join(".")}: ${i.message}`);
}

const ID_RULE = "must be 1-64 of a-z, 0-9, '-', '_', start with a letter or digit, and not be all digits";

describe("ids", () => {
  it("accepts lower-case slugs and refuses what cannot be a Redis key part, job id or file name", () => {
    for (const ok of ["leena", "not-holy-war-en", "q_1", "a", "9lives", "x".repeat(64)]) {
      expect(ID_PATTERN.test(ok), ok).toBe(true);
    }
    for (const bad of ["", "Leena", "a:b", "a b", "-lead", "_lead", "123", "x".repeat(65), "é"]) {
      expect(problems(idSchema, bad), bad).toEqual([`: ${ID_RULE}`]);
    }
  });

  it("derives stable, valid ids from content", () => {
    const a = stableId("q", "leena", "en", "I was horrified");
    expect(a).toBe(stableId("q", "leena", "en", "I was horrified"));
    expect(a).not.toBe(stableId("q", "leena", "ar", "I was horrified"));
    // Parts are separated: moving text from one part to the next gives another id.
    expect(stableId("q", "ab", "c")).not.toBe(stableId("q", "a", "bc"));
    expect(a).toMatch(/^q-[0-9a-f]{16}$/);
    expect(ID_PATTERN.test(a)).toBe(true);
  });
});

describe("locales", () => {
  it("canonicalises BCP 47 tags and refuses what is not one", () => {
    expect(localeSchema.parse("EN-gb")).toBe("en-GB");
    expect(localeSchema.parse(" ar ")).toBe("ar");
    expect(localeSchema.parse("zh-hant-tw")).toBe("zh-Hant-TW");
    expect(canonicalLocale("iw")).toBe("he");
    for (const bad of ["en_GB", "english!", "", "x"]) {
      expect(problems(localeSchema, bad)).toEqual([
        `: "${bad}" is not a BCP 47 language tag (e.g. en, ar, en-GB)`,
      ]);
    }
  });

  it("Arabic, Persian, Urdu and Hebrew are right to left; others left to right", () => {
    for (const rtl of [
      "ar",
      "ar-IQ",
      "ar-SY",
      "fa",
      "fa-IR",
      "ur",
      "ur-PK",
      "he",
      "he-IL",
      "ps",
      "ckb",
      "az-Arab",
    ]) {
      expect(directionOf(rtl), rtl).toBe("rtl");
    }
    for (const ltr of ["en", "en-GB", "fr", "tr", "ru", "id", "ku", "ar-Latn", "ur-Latn"]) {
      expect(directionOf(ltr), ltr).toBe("ltr");
    }
    expect(directionOf(localeSchema.parse("FA-ir"))).toBe("rtl");
  });
});

describe("narratives", () => {
  it("are the four of the ICSR report plus other", () => {
    expect(NARRATIVES).toEqual(["infighting", "brutality", "corruption", "disillusionment", "other"]);
    expect(problems(narrativeSchema, "heroism")).toEqual([
      ": must be one of infighting, brutality, corruption, disillusionment, other",
    ]);
    expect(problems(narrativeSchema, "Brutality")).toHaveLength(1);
  });
});

describe("speaker", () => {
  const consent = {
    state: "granted",
    recordedBy: "staff1",
    recordedAt: "2026-01-31T12:00:00Z",
    scope: { locales: ["en", "AR"], channels: [] },
  };
  const named: SpeakerInput = {
    id: "abu-example",
    pseudonym: "Abu Example",
    attribution: "named",
    publicName: "Example Name",
    consent: consent as SpeakerInput["consent"],
  };

  it("accepts anonymous and pseudonymous speakers with defaults for the private parts", () => {
    expect(speakerSchema.parse({ id: "leena", pseudonym: "  Leena ", attribution: "pseudonym" })).toEqual({
      id: "leena",
      pseudonym: "Leena",
      attribution: "pseudonym",
      private: {},
      redactionTerms: [],
    });
    expect(
      speakerSchema.safeParse({ id: "icsr", pseudonym: "ICSR defectors", attribution: "anonymous" }).success,
    ).toBe(true);
  });

  it("accepts `named` with granted consent recorded with who, when and scope", () => {
    const s = speakerSchema.parse(named);
    expect(s.consent?.scope).toEqual({ locales: ["en", "ar"], channels: [] });
    const channelsOnly = { ...named, consent: { ...consent, scope: { channels: ["telegram"] } } };
    expect(problems(speakerSchema, channelsOnly)).toEqual([]);
  });

  it("refuses `named` without consent, with withdrawn consent, without scope or without a name", () => {
    const { consent: _none, ...noConsent } = named;
    expect(problems(speakerSchema, noConsent)).toEqual([
      "consent: named attribution needs granted consent recorded with who, when and scope",
    ]);
    expect(problems(speakerSchema, { ...named, consent: { ...consent, state: "withdrawn" } })).toEqual([
      "consent: named attribution needs granted consent recorded with who, when and scope",
    ]);
    expect(problems(speakerSchema, { ...named, consent: { ...consent, scope: undefined } })).toEqual([
      "consent.scope: named attribution needs a consent scope (locales or channels)",
    ]);
    expect(problems(speakerSchema, { ...named, publicName: undefined })).toEqual([
      "publicName: named attribution needs the name to publish",
    ]);
  });

  it("refuses consent without who or a real date-time", () => {
    expect(
      problems(speakerSchema, {
        ...named,
        consent: { ...consent, recordedBy: " ", recordedAt: "2026-01-31" },
      }),
    ).toEqual([
      "consent.recordedBy: who recorded the consent is required",
      "consent.recordedAt: must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z",
    ]);
  });

  it("names the field of every other problem", () => {
    expect(
      problems(speakerSchema, {
        id: "Leena",
        pseudonym: " ",
        attribution: "famous",
        redactionTerms: ["Raqqa", "R"],
      }),
    ).toEqual([
      `id: ${ID_RULE}`,
      "pseudonym: must not be empty",
      "attribution: must be one of anonymous, pseudonym, named",
      "redactionTerms.1: a redaction term needs at least 2 characters",
    ]);
    expect(
      problems(speakerSchema, { id: "x1", pseudonym: "p".repeat(81), attribution: "anonymous" }),
    ).toEqual(["pseudonym: at most 80 characters"]);
  });
});

describe("quote", () => {
  const valid = {
    id: "not-protecting-en",
    speakerId: "icsr-defectors",
    text: "  The Islamic State is not protecting Muslims. It is killing them.\n",
    locale: "en",
    narrative: "brutality",
    source: {
      title: "Victims, Perpetrators, Assets: The Narratives of Islamic State Defectors",
      publisher: "ICSR, King's College London",
      url: "https://icsr.info/",
      publishedAt: "2015-09-21",
    },
  };

  it("accepts a sourced quote, trimming the text and canonicalising the locale", () => {
    const q = quoteImportSchema.parse({ ...valid, locale: "EN", translationOf: "not-protecting-ar" });
    expect(q.text).toBe("The Islamic State is not protecting Muslims. It is killing them.");
    expect(q.locale).toBe("en");
    expect(q.translationOf).toBe("not-protecting-ar");
    const { url: _u, ...noUrl } = valid.source;
    expect(problems(quoteImportSchema, { ...valid, source: noUrl })).toEqual([]);
  });

  it("text is 1 to 1,000 characters after trimming", () => {
    expect(problems(quoteImportSchema, { ...valid, text: "x".repeat(1000) })).toEqual([]);
    expect(problems(quoteImportSchema, { ...valid, text: ` ${"x".repeat(1000)} ` })).toEqual([]);
    expect(problems(quoteImportSchema, { ...valid, text: "x".repeat(1001) })).toEqual([
      "text: at most 1,000 characters",
    ]);
    expect(problems(quoteImportSchema, { ...valid, text: " \n " })).toEqual(["text: must not be empty"]);
  });

  it("names the field of each bad part", () => {
    expect(
      problems(quoteImportSchema, {
        ...valid,
        speakerId: "ICSR",
        locale: "en_GB",
        narrative: "heroism",
        source: { title: "", publisher: "ICSR", url: "javascript:alert(1)", publishedAt: "21/09/2015" },
        translationOf: "Not An Id",
      }),
    ).toEqual([
      `speakerId: ${ID_RULE}`,
      'locale: "en_GB" is not a BCP 47 language tag (e.g. en, ar, en-GB)',
      "narrative: must be one of infighting, brutality, corruption, disillusionment, other",
      "source.title: must not be empty",
      "source.url: must be an http(s) URL",
      "source.publishedAt: must be a date as YYYY-MM-DD",
      `translationOf: ${ID_RULE}`,
    ]);
    for (const url of ["ftp://icsr.info/report.pdf", "icsr.info/report", "https//icsr.info"]) {
      expect(problems(quoteImportSchema, { ...valid, source: { ...valid.source, url } })).toEqual([
        "source.url: must be an http(s) URL",
      ]);
    }
    expect(
      problems(quoteImportSchema, { ...valid, source: { ...valid.source, publishedAt: "2015-02-30" } }),
    ).toEqual(["source.publishedAt: must be a date as YYYY-MM-DD"]);
  });

  it("the vetting state machine: pending → vetted | rejected, vetted → retired", () => {
    const base: Quote = {
      ...quoteImportSchema.parse(valid),
      vetting: { state: "pending" },
      createdAt: "2026-01-01T00:00:00.000Z",
      updatedAt: "2026-01-01T00:00:00.000Z",
    };
    const at = "2026-02-01T00:00:00.000Z";
    const vetted = applyVetting(base, "vet", "reviewer1", at);
    expect(vetted.vetting).toEqual({ state: "vetted", by: "reviewer1", at, note: undefined });
    expect(vetted.updatedAt).toBe(at);
    expect(base.vetting.state).toBe("pending");
    expect(applyVetting(vetted, "retire", "reviewer2", at).vetting.state).toBe("retired");
    expect(applyVetting(base, "reject", "reviewer1", at, " wrong speaker ").vetting).toMatchObject({
      state: "rejected",
      note: "wrong speaker",
    });

    const refused = (q: Quote, action: "vet" | "reject" | "retire", note?: string) => {
      try {
        applyVetting(q, action, "reviewer3", at, note);
      } catch (e) {
        expect(e).toBeInstanceOf(AppError);
        return `${(e as AppError).code}: ${(e as AppError).message}`;
      }
      throw new Error(`${action} from ${q.vetting.state} was allowed`);
    };
    expect(refused(vetted, "vet")).toBe(
      "invalid_state: cannot vet quote not-protecting-en: it is vetted (allowed from pending)",
    );
    expect(refused(base, "retire")).toBe(
      "invalid_state: cannot retire quote not-protecting-en: it is pending (allowed from vetted)",
    );
    const rejected = applyVetting(base, "reject", "reviewer1", at, "why");
    expect(refused(rejected, "vet")).toBe(
      "invalid_state: cannot vet quote not-protecting-en: it is rejected (allowed from pending)",
    );
    expect(refused(base, "reject")).toBe("invalid_input: rejecting a quote needs a note saying why");
  });

  it("only the published words (text, locale, speaker) count as a content change", () => {
    const a: QuoteImport = quoteImportSchema.parse(valid);
    expect(contentChanged(a, { ...a })).toBe(false);
    expect(contentChanged(a, { ...a, source: { ...a.source, title: "Another title" } })).toBe(false);
    expect(contentChanged(a, { ...a, narrative: "other" })).toBe(false);
    expect(contentChanged(a, { ...a, text: `${a.text}!` })).toBe(true);
    expect(contentChanged(a, { ...a, locale: "en-GB" })).toBe(true);
    expect(contentChanged(a, { ...a, speakerId: "leena" })).toBe(true);
  });
});

describe("campaign", () => {
  const sample = JSON.parse(readFileSync("assets/sample/campaign.json", "utf8")) as CampaignInput;
  const withSchedule = (schedule: Partial<CampaignInput["schedule"]>) => ({
    ...sample,
    schedule: { ...sample.schedule, ...schedule },
  });

  it("accepts the sample campaign and fills defaults", () => {
    const c = campaignInputSchema.parse(sample);
    expect(c).toMatchObject({
      id: "why-they-left",
      locales: ["en", "ar"],
      narratives: ["infighting", "brutality", "corruption", "disillusionment"],
      formats: ["square", "portrait", "story", "landscape"],
      schedule: { cron: "0 9 * * 1", timeZone: "Asia/Baghdad" },
    });
    const {
      textVariants: _t,
      hashtags: _h,
      links: _l,
      exposure: _e,
      encoding: _enc,
      paused: _p,
      ...minimal
    } = sample;
    expect(
      campaignInputSchema.parse({ ...minimal, brand: { ...sample.brand, version: undefined } }),
    ).toMatchObject({
      textVariants: ["post", "caption", "alt_text"],
      hashtags: [],
      links: [],
      exposure: { maxPerSpeakerPerDrop: 3 },
      encoding: "png",
      paused: false,
      brand: { version: 1 },
    });
  });

  it("validates the cron expression", () => {
    for (const cron of ["0 9 * * 1", "*/15 * * * *", "0 0 9 * * 1", "30 18 * * 1-5"]) {
      expect(problems(campaignInputSchema, withSchedule({ cron })), cron).toEqual([]);
    }
    expect(problems(campaignInputSchema, withSchedule({ cron: "every monday" }))).toEqual([
      'schedule.cron: invalid cron expression "every monday": expected 5 or 6 fields but got 2',
    ]);
    expect(problems(campaignInputSchema, withSchedule({ cron: "61 9 * * 1" }))).toEqual([
      'schedule.cron: invalid cron expression "61 9 * * 1": 61 is a invalid expression for minute',
    ]);
    for (const cron of ["0 25 * * *", "0 9 * * 8", "0 9 * *", "", "0 9 31 2 *"]) {
      const found = problems(campaignInputSchema, withSchedule({ cron }));
      expect(found, cron).toHaveLength(1);
      expect(found[0]).toMatch(/^schedule\.cron: invalid cron expression /);
    }
  });

  it("validates the IANA time zone", () => {
    for (const tz of [
      "Asia/Baghdad",
      "Europe/London",
      "UTC",
      "America/Argentina/Buenos_Aires",
      "Etc/GMT+3",
    ]) {
      expect(isValidTimeZone(tz), tz).toBe(true);
      expect(problems(campaignInputSchema, withSchedule({ timeZone: tz }))).toEqual([]);
    }
    for (const tz of ["Mars/Olympus", "EST", "GMT+3", "Baghdad", ""]) {
      expect(problems(campaignInputSchema, withSchedule({ timeZone: tz })), tz).toEqual([
        `schedule.timeZone: "${tz}" is not an IANA time zone (e.g. Europe/London, Asia/Baghdad)`,
      ]);
    }
  });

  it("names the field of every other problem", () => {
    expect(
      problems(campaignInputSchema, {
        ...sample,
        id: "Why They Left",
        name: " ",
        locales: ["en", "EN"],
        narratives: ["heroism"],
        formats: ["banner"],
        brand: { ...sample.brand, text: "white" },
        hashtags: ["WhyTheyLeft"],
        exposure: { maxPerSpeakerPerDrop: 0 },
      }),
    ).toEqual([
      `id: ${ID_RULE}`,
      "name: must not be empty",
      "locales: locales must not repeat",
      "narratives.0: must be one of infighting, brutality, corruption, disillusionment, other",
      "formats.0: must be one of square, portrait, story, landscape",
      "brand.text: must be a colour as #rrggbb",
      "hashtags.0: must be a hashtag like #WhyTheyLeft",
      "exposure.maxPerSpeakerPerDrop: Too small: expected number to be >=1",
    ]);
    expect(problems(campaignInputSchema, { ...sample, locales: [] })).toEqual([
      "locales: at least one locale",
    ]);
    expect(problems(campaignInputSchema, { ...sample, locales: ["ar", "en_GB"] })).toEqual([
      'locales.1: "en_GB" is not a BCP 47 language tag (e.g. en, ar, en-GB)',
    ]);
    expect(problems(campaignInputSchema, { ...sample, formats: ["square", "square"] })).toEqual([
      "formats: formats must not repeat",
    ]);
    expect(problems(campaignInputSchema, { ...sample, links: ["ftp://example.org/"] })).toHaveLength(1);
    expect(problems(campaignInputSchema, { ...sample, links: ["https://example.org/why"] })).toEqual([]);
  });
});
