import { mkdir } from "node:fs/promises";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCampaign } from "../../src/app/campaigns.service.js";
import { decide } from "../../src/app/review.service.js";
import type { Output } from "../../src/domain/output.js";
import { type RunningServer, startServer } from "../../src/http/server.js";
import { type Harness, harness, makeOutput, makeUser } from "../http/fixtures.js";
import { axeViolations as axe, CHROMIUM, haveChromium, launchChromium } from "../support/browser.js";

if (!haveChromium) console.warn(`browser tests skipped: ${CHROMIUM} is absent (CI installs it)`);

const htmlAttrs = (page: Page) =>
  page.evaluate(() => ({ lang: document.documentElement.lang, dir: document.documentElement.dir }));

/** The left edge of an element, as a share of the viewport's width. */
const leftShare = (page: Page, selector: string) =>
  page
    .locator(selector)
    .first()
    .evaluate((el) => el.getBoundingClientRect().left / window.innerWidth);

describe.skipIf(!haveChromium)("the pages in Arabic, in Chromium", () => {
  let h: Harness;
  let server: RunningServer;
  let browser: Browser;
  let token: string;
  const outputs: Output[] = [];

  beforeAll(async () => {
    h = await harness("browser-i18n");
    server = await startServer({ ...h.deps, host: "127.0.0.1", port: 0 });
    // Staff and reviewer at once: the whole navigation, and cards queued by someone else to decide.
    token = (await makeUser(h, "both1", ["staff", "reviewer"])).token;
    await createCampaign(
      h.store,
      {
        id: "why-they-left",
        name: "Why They Left",
        audience: { region: "UK", description: "test" },
        locales: ["en", "ar"],
        narratives: ["brutality", "corruption"],
        formats: ["square"],
        brand: { background: "#102030", text: "#ffffff", accent: "#e0a526" },
        hashtags: ["#WhyTheyLeft"],
        schedule: { cron: "0 9 * * 1", timeZone: "Asia/Baghdad" },
      },
      "staff1",
    );
    outputs.push(
      await makeOutput(h, {
        campaignId: "why-they-left",
        locale: "ar",
        direction: "rtl",
        published: {
          quoteText: "الدولة الإسلامية لا تحمي المسلمين، بل تقتلهم.",
          attribution: "مقاتل سابق",
          citation: "ICSR",
        },
        variants: { post: "الدولة الإسلامية لا تحمي المسلمين، بل تقتلهم. #WhyTheyLeft" },
        missedDrops: ["2026-01-05T09:00+03:00"],
      }),
      await makeOutput(h, {
        campaignId: "why-they-left",
        published: {
          quoteText: "The Islamic State is not protecting Muslims. It is killing them.",
          attribution: "A former fighter",
          citation: "ICSR, King's College London, “Victims, Perpetrators, Assets”, 2015-09-21",
        },
      }),
    );
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close(server);
  });

  it("an Arabic browser gets Arabic, right to left and mirrored; the switcher changes it and it stays", {
    timeout: 60_000,
  }, async () => {
    // locale "ar" makes Chromium send Accept-Language: ar.
    const context = await browser.newContext({ locale: "ar", viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await mkdir("test-output", { recursive: true });

    await page.goto(`${server.url}/review`);
    expect(new URL(page.url()).pathname).toBe("/review/login");
    expect(await htmlAttrs(page)).toEqual({ lang: "ar", dir: "rtl" });
    await expect.poll(() => page.locator("h1").textContent()).toBe("تسجيل الدخول إلى المراجعة");
    await page.screenshot({ path: "test-output/review-login-ar.png" });
    await page.getByLabel("الرمز").fill(token);
    await Promise.all([
      page.waitForURL(`${server.url}/review`),
      page.getByRole("button", { name: "تسجيل الدخول" }).click(),
    ]);

    // /review: labels, the mirrored top bar (brand on the right), cards, keyboard approval in Arabic.
    expect(await htmlAttrs(page)).toEqual({ lang: "ar", dir: "rtl" });
    const cards = page.locator("article.card");
    await expect.poll(() => cards.count()).toBe(2);
    await page.waitForFunction(() => Array.from(document.images).every((i) => i.complete));
    const navLabels = await page
      .getByRole("navigation", { name: "التنقل الرئيسي" })
      .getByRole("link")
      .allTextContents();
    expect(navLabels).toEqual(expect.arrayContaining(["الاقتباسات", "المتحدثون", "الحملات", "المراجعة"]));
    // Every entry is in Arabic letters: no English label left in the navigation.
    for (const label of navLabels) expect(label).toMatch(/^[\u0600-\u06FF\s]+$/);
    expect(await page.getByRole("button", { name: "تحديد الكل" }).count()).toBe(1);
    expect(
      await cards
        .first()
        .getByRole("button", { name: /موافقة/ })
        .count(),
    ).toBe(1);
    expect(await page.locator(".summary").textContent()).toContain("2 من مُخرَجَين قيد المراجعة.");
    expect(await cards.first().locator(".warn").textContent()).toContain("موعد نشر فائت:");
    // A time keeps its left-to-right order inside the Arabic page.
    expect(await cards.first().locator(".warn .chip").getAttribute("dir")).toBe("ltr");
    expect(await leftShare(page, ".topbar .brand")).toBeGreaterThan(0.5);
    expect(await leftShare(page, ".topbar .who")).toBeLessThan(0.5);
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: "test-output/review-ar.png", fullPage: true });

    await cards.first().focus();
    await page.keyboard.press("a");
    await expect.poll(() => cards.first().getAttribute("class")).toContain("approved");
    await expect.poll(() => page.locator("#toast").textContent()).toBe("تمت الموافقة");
    expect(await cards.first().locator("[data-status]").textContent()).toBe("موافَق عليه");
    expect((await h.store.outputs.get(outputs[0]!.id))?.value.status).toBe("approved");
    // Someone else decides the second card meanwhile: the refusal is said in Arabic, not in the API's English.
    await decide(h.store, outputs[1]!.id, "rejected", "rev2", "Not this one.");
    await cards.nth(1).focus();
    await page.keyboard.press("a");
    await expect
      .poll(() => page.locator("#toast").textContent())
      .toBe("سبق البتّ في هذا المُخرَج: أعد تحميل الصفحة لترى ما بقي قيد المراجعة.");

    // A workspace page in Arabic.
    await page.goto(`${server.url}/workspace/quotes`);
    expect(await htmlAttrs(page)).toEqual({ lang: "ar", dir: "rtl" });
    expect(await page.getByRole("link", { name: "الاقتباسات" }).getAttribute("aria-current")).toBe("page");
    expect(await page.getByRole("button", { name: "تسجيل الخروج" }).count()).toBe(1);
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: "test-output/workspace-quotes-ar.png", fullPage: true });

    // The switcher: English, on the same page, and it outlasts the Arabic browser; then back.
    await Promise.all([
      page.waitForURL(`${server.url}/workspace/quotes`),
      page.getByRole("button", { name: "English" }).click(),
    ]);
    expect(await htmlAttrs(page)).toEqual({ lang: "en", dir: "ltr" });
    expect(await page.getByRole("link", { name: "Quotes" }).count()).toBe(1);
    await page.goto(`${server.url}/review`);
    expect(await htmlAttrs(page)).toEqual({ lang: "en", dir: "ltr" });
    expect(await leftShare(page, ".topbar .brand")).toBeLessThan(0.5);
    await Promise.all([
      page.waitForURL(`${server.url}/review`),
      page.getByRole("button", { name: "العربية" }).click(),
    ]);
    expect(await htmlAttrs(page)).toEqual({ lang: "ar", dir: "rtl" });

    expect(errors).toEqual([]);
    await context.close();
  });
});
