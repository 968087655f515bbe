import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/http/server.js";
import { type Harness, makeUser } from "../http/fixtures.js";
import { axeViolations as axe, CHROMIUM, haveChromium } from "../support/browser.js";
import { aQuote, saveAll } from "../support/builders.js";
import { englishOn, englishWords } from "../support/english-words.js";
import { LONG, signedInPage, startBrowserSite, twoSpeakerCampaign } from "../support/workspace-browser.js";

if (!haveChromium) console.warn(`browser tests skipped: ${CHROMIUM} is absent (CI installs it)`);

/**
 * The campaign form in Arabic, in Chromium: right to left, translated labels, the cron described in
 * Arabic, and the words workspace.js writes itself (contrast warning, cannot-fit, preview status) in
 * Arabic too; no English word of the catalogue on the live page; no serious or critical axe violation.
 */
describe.skipIf(!haveChromium)("the campaign form in Arabic, in Chromium", () => {
  let h: Harness;
  let server: RunningServer;
  let browser: Browser;
  let staff: string;
  const world = twoSpeakerCampaign();

  beforeAll(async () => {
    ({ h, server, browser } = await startBrowserSite("browser-i18n-form"));
    staff = (await makeUser(h, "staff1", ["staff"])).token;
    await saveAll(h.store, { ...world, quotes: [...world.quotes, aQuote("q-long", "s2", { text: LONG })] });
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close(server);
  });

  it("labels, schedule, warnings and preview status are Arabic in a right-to-left page", async () => {
    // An Arabic browser in New York: Accept-Language ar, and a viewer's zone other than the campaign's.
    const { page, context, errors } = await signedInPage(
      browser,
      server,
      staff,
      "/workspace/campaigns/why-they-left/edit",
      {
        context: { viewport: { width: 1280, height: 1000 }, locale: "ar", timezoneId: "America/New_York" },
        ignoreConsole: "status of 4",
      },
    );
    const html = await page.evaluate(() => ({
      lang: document.documentElement.lang,
      dir: document.documentElement.dir,
    }));
    expect(html).toEqual({ lang: "ar", dir: "rtl" });
    expect(await page.locator('label[for="f-name"]').textContent()).toBe("الاسم");
    expect(await page.locator("#campaign-save").textContent()).toBe("حفظ الحملة");
    expect(await page.locator("#preview-title").textContent()).toBe("معاينة حيّة");

    // The cron in Arabic words, with the viewer's own zone beside the campaign's (sent by the script).
    const sched = page.locator("#schedule-info");
    await expect
      .poll(() => sched.locator("th").allTextContents(), { timeout: 10_000 })
      .toEqual(["منطقة الحملة الزمنية (Asia/Baghdad)", "منطقتك الزمنية (America/New_York)"]);
    expect(await sched.locator(".schedule-description strong").textContent()).toBe(
      "في الساعة 09:00، يوم الاثنين.",
    );
    await page.fill("#f-cron", "0 */2 * * *");
    await expect
      .poll(() => sched.locator(".schedule-description strong").textContent(), { timeout: 10_000 })
      .toBe("كل ساعتين عند الدقيقة 00، كل يوم.");

    // Preview: every card rendered, the status said in Arabic with its plural form.
    const grid = page.locator("#preview-grid");
    await page.selectOption("#p-quote", "q1");
    await expect.poll(() => grid.getAttribute("data-state"), { timeout: 20_000 }).toBe("done");
    expect(await grid.locator("figure").count()).toBe(4);
    expect(await page.locator("#preview-message").textContent()).toBe("حُدّثت المعاينة: صُيّرت 4 بطاقات.");
    expect(await grid.locator("figure img").first().getAttribute("alt")).toBe("معاينة: بطاقة مربّع باللغة en");

    // The rendered cards beside the form (the README's screenshot).
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({
      path: "test-output/campaign-form-ar-cards.png",
      fullPage: true,
      clip: { x: 0, y: 0, width: 1280, height: 1350 },
    });

    // Low contrast: the field's warning and each card's note, written by the script, in Arabic.
    await page.fill("#f-text", "#203040");
    await expect.poll(() => page.locator("#contrast").textContent()).toContain("تحذير: تباين النص");
    await expect.poll(() => grid.getAttribute("data-state"), { timeout: 20_000 }).toBe("done");
    expect(await grid.locator(".contrast-note").first().textContent()).toContain("تباين منخفض");

    // A 968-character quote: its post variant is too long (the API's refusal, said by its reason's words).
    await page.fill("#f-text", "#ffffff");
    await page.selectOption("#p-quote", "q-long");
    const landscape = grid.locator('figure[data-format="landscape"][data-locale="en"]');
    await expect.poll(() => grid.getAttribute("data-state"), { timeout: 30_000 }).toBe("done");
    expect(await landscape.getAttribute("data-state")).toBe("refused");
    expect(await landscape.locator(".fit").textContent()).toBe("لم تُصيَّر: إحدى صيغ النص أطول من المسموح");
    // With the caption only, the landscape card cannot fit: it says so, naming the format in Arabic.
    for (const v of ["post", "alt_text"]) await page.uncheck(`input[name=textVariants][value=${v}]`);
    await expect.poll(() => grid.getAttribute("data-state"), { timeout: 30_000 }).toBe("done");
    expect(await landscape.getAttribute("data-state")).toBe("cannot_fit");
    expect(await landscape.locator(".fit").textContent()).toBe(
      "لا يتسع: هذا الاقتباس أطول من أن يتسع لبطاقة أفقي حتى بأصغر حجم للنص.",
    );
    await expect.poll(() => grid.getAttribute("data-state"), { timeout: 20_000 }).toBe("done");
    expect(await page.locator("#preview-message").textContent()).toMatch(
      /^حُدّثت المعاينة: صُيّرت \d من 4 بطاقات؛/,
    );

    // The live page as the reader sees it: no English word of the catalogue outside user data and code.
    // (The quote picker shows each quote's first 70 characters.)
    const texts = [LONG, ...world.quotes.map((q) => q.text)].map((t) => t.slice(0, 70));
    const data = [
      "testimony",
      "Why They Left",
      "why-they-left",
      "staff1",
      "folder",
      "America/New_York",
      ...texts,
    ];
    expect(englishOn(await page.content(), data, englishWords())).toEqual([]);

    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: "test-output/campaign-form-ar.png", fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);
});
