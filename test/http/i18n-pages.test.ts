import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/http/server.js";
import { aCampaign, anOutput, aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { englishOn, englishWords } from "../support/english-words.js";
import { type Session, siteClient, startSite } from "../support/site.js";
import { type Harness, makeUser } from "./fixtures.js";

/**
 * Every workspace page and /review in Arabic, over a real socket with Accept-Language: ar, holds no
 * English word from en.json outside the places where English belongs: user data (the seed below is
 * listed and taken out), code (<code>, <kbd>, <script>, <style>), form values (the cron expression,
 * hashtags, ids), and elements marked as another language (the switcher's "English"). A label, help
 * text, warning, field error or script message left in English fails here with its page and words.
 */

let h: Harness;
let server: RunningServer;
let admin: Session;
const site = siteClient(() => server.url);
const AR = { "accept-language": "ar" };
const english = englishWords();

/** The seed's own words: names and texts people typed, shown as they are in any language. */
const DATA = [
  "testimony",
  "Why They Left",
  "why-they-left",
  "Victims, Perpetrators, Assets",
  "ICSR",
  "Pseudonym s1",
  "Pseudonym s2",
  "Quote q1: this is not a holy war.",
  "Quote q2: this is not a holy war.",
  "Quote q3: this is not a holy war.",
  "admin1",
  "staff1",
  "vetter",
  "reviewer1",
  // The default delivery target's id, and an example file name.
  "folder",
  "quotes.csv",
];

beforeAll(async () => {
  ({ h, server } = await startSite("http-i18n-pages"));
  const token = (await makeUser(h, "admin1", ["staff", "reviewer", "admin"])).token;
  admin = await site.signIn(token, { lang: "ar" });
  const q1 = aQuote("q1", "s1");
  const q2 = aQuote("q2", "s2", { vetting: { state: "pending" } });
  const q3 = aQuote("q3", "s1", { narrative: "other" });
  await saveAll(h.store, {
    campaigns: [aCampaign()],
    speakers: [aSpeaker("s1"), aSpeaker("s2")],
    quotes: [
      q1,
      q2,
      q3,
      aQuote("q1-ar", "s1", { locale: "ar", text: "هذه ليست حربا مقدسة.", translationOf: "q1" }),
    ],
  });
  await anOutput(h.store, h.dataDir, q1, { status: "in_review", queuedBy: "staff1" });
});
afterAll(() => h.close(server));

const PAGES = [
  "/review",
  "/workspace/quotes",
  "/workspace/speakers",
  "/workspace/campaigns",
  "/workspace/campaigns/new",
  "/workspace/campaigns/why-they-left/edit",
  "/workspace/campaigns/why-they-left/queue",
  "/workspace/campaigns/why-they-left/progress",
  "/workspace/campaigns/why-they-left/drops",
  "/workspace/campaigns/why-they-left/coverage",
  "/workspace/audit",
  "/workspace/users",
  "/workspace/campaigns/schedule?cron=0+9+*+*+1-5&timeZone=Asia%2FBaghdad&viewerZone=Europe%2FLondon",
  "/workspace/campaigns/schedule?cron=*%2F15+*+*+*+*&timeZone=UTC",
  "/workspace/campaigns/schedule?cron=every+monday&timeZone=Mars%2FBase",
];

describe("the pages in Arabic hold no English words from the catalogue", () => {
  it("the scan finds English: an English page is full of it", async () => {
    const res = await site.get("/workspace/campaigns/new", admin, { "accept-language": "en" });
    expect(res.status).toBe(200);
    // The session chose nothing, so the header decides; English words are found on the English form.
    const html = await res.text();
    expect(html).toContain('lang="ar"'); // the switcher's Arabic button only
    expect(englishOn(html, DATA, english).length).toBeGreaterThan(20);
  });

  for (const path of PAGES)
    it(`GET ${path}`, async () => {
      const res = await site.get(path, admin, AR);
      expect(res.status, path).toBe(200);
      const html = await res.text();
      if (!path.includes("/schedule?")) expect(html).toMatch(/<html lang="ar" dir="rtl">/);
      expect(englishOn(html, DATA, english), path).toEqual([]);
    });

  it("the campaign form with field errors, and its schedule in Arabic", async () => {
    const res = await site.post(
      "/workspace/campaigns",
      admin,
      {
        id: "new-one",
        name: "",
        region: "",
        locales: "",
        cron: "every monday",
        timeZone: "Mars/Base",
        background: "#fff",
        hashtags: "nohash",
        delivery: "1",
        d0_new: "1",
        d0_type: "webhook",
        d0_id: "hook",
        d0_url: "ftp://x",
      },
      { csrf: true, headers: AR },
    );
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toMatch(/<html lang="ar" dir="rtl">/);
    // The errors are there, beside their fields, in Arabic.
    expect(html).toMatch(/id="e-cron">ليس تعبير cron/);
    expect(html).toMatch(/id="e-tz">ليست منطقة زمنية/);
    expect(html).toMatch(/id="e-formats">اختر مقاسًا واحدًا على الأقل/);
    expect(html).toContain('id="form-error">لم يُحفَظ شيء');
    expect(englishOn(html, [...DATA, "new-one", "nohash", "ftp://x", "hook"], english)).toEqual([]);
  });

  it("a duplicate campaign's message is Arabic too", async () => {
    const res = await site.post(
      "/workspace/campaigns",
      admin,
      {
        id: "why-they-left",
        name: "x",
        region: "y",
        locales: "en",
        narratives: "corruption",
        formats: "square",
        textVariants: "post",
        background: "#000000",
        text: "#ffffff",
        accent: "#e0a526",
        cron: "0 9 * * 1",
        timeZone: "UTC",
        maxPerDrop: "3",
      },
      { csrf: true, headers: AR },
    );
    expect(res.status).toBe(409);
    const html = await res.text();
    // The service's conflict, said by its code's words.
    expect(html).toContain('id="form-error">يتعارض مع ما هو محفوظ (موجود من قبل');
    expect(englishOn(html, DATA, english)).toEqual([]);
  });

  it("a service's refusal on the users and speakers forms is said by its code in Arabic", async () => {
    const user = await site.post(
      "/workspace/users",
      admin,
      { name: "Not A Valid Name!", roles: "staff" },
      { csrf: true, headers: AR },
    );
    expect(user.status).toBe(400);
    const userPage = await user.text();
    expect(userPage).toContain("لم يُحفَظ شيء");
    expect(englishOn(userPage, [...DATA, "Not A Valid Name!"], english)).toEqual([]);
    const term = await site.post(
      "/workspace/redactions",
      admin,
      { term: "x", speaker: "no-such-speaker" },
      { csrf: true, headers: AR },
    );
    expect(term.status).toBe(400);
    expect(englishOn(await term.text(), DATA, english)).toEqual([]);
  });

  it("a refused vetting (the quote is vetted already) is said in Arabic on the quotes page", async () => {
    const res = await site.post("/workspace/quotes/q1/vet", admin, {}, { csrf: true, headers: AR });
    expect(res.status).toBe(409);
    const html = await res.text();
    expect(html).toContain('role="alert">غير مسموح به في حالته الحالية.');
    expect(englishOn(html, DATA, english)).toEqual([]);
  });

  it("an import check with bad rows says each row's problem in Arabic", async () => {
    const csv = [
      "id,speaker_id,text,locale,narrative,source_title,source_publisher,source_url,source_published_at",
      "q9,s1,Fine text,en,corruption,Report,Pub,https://example.org/a,2015-09-21",
      "q10,nobody,,xx,nonsense,Report,Pub,https://example.org/b,2015-09-21",
    ].join("\n");
    const res = await site.post(
      "/workspace/quotes/check",
      admin,
      { kind: "quotes", file: "bad.csv", content: csv },
      { csrf: true, headers: { ...AR, "hx-request": "true" } },
    );
    const html = await res.text();
    expect(html).toContain('class="check-rows"');
    expect(html).toContain("إحدى السرديات المعروفة");
    expect(
      englishOn(
        html,
        [
          ...DATA,
          ...csv.split(/[\n,]/).filter(Boolean), // the file's own column names and values, shown as they are
        ],
        english,
      ),
    ).toEqual([]);
  });

  it("an error page (a campaign that does not exist) says its code's words in Arabic", async () => {
    const res = await site.get("/workspace/campaigns/no-such/edit", admin, AR);
    expect(res.status).toBe(404);
    const html = await res.text();
    expect(html).toMatch(/<html lang="ar" dir="rtl">/);
    expect(html).toContain("غير موجود (أو لم يعد موجودًا).");
    expect(html).toContain("العودة إلى المراجعة");
    expect(englishOn(html, DATA, english)).toEqual([]);
    // English keeps the service's own sentence.
    const en = await (
      await site.get("/workspace/campaigns/no-such/edit", admin, { "accept-language": "en" })
    ).text();
    expect(en).toContain("campaign no-such does not exist");
  });

  it("the schedule says the cron in Arabic with the days' names from Intl", async () => {
    const html = await (
      await site.get("/workspace/campaigns/schedule?cron=0+9+*+*+1-5&timeZone=Asia%2FBaghdad", admin, AR)
    ).text();
    expect(html).toContain("في الساعة 09:00، يوم من الاثنين إلى الجمعة.");
    const every = await (
      await site.get("/workspace/campaigns/schedule?cron=0+*%2F2+*+*+*&timeZone=UTC", admin, AR)
    ).text();
    expect(every).toContain("كل ساعتين عند الدقيقة 00، كل يوم.");
    const english = await (
      await site.get("/workspace/campaigns/schedule?cron=0+9+*+*+1-5&timeZone=Asia%2FBaghdad", admin, {
        "accept-language": "en",
      })
    ).text();
    expect(english).toContain("At 09:00, on Monday to Friday.");
  });
});
