import { mkdir } from "node:fs/promises";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Output } from "../../src/domain/output.js";
import { type RunningServer, startServer } from "../../src/http/server.js";
import { type Harness, harness, makeOutput, makeUser } from "../http/fixtures.js";
import { CHROMIUM, haveChromium, launchChromium } from "../support/browser.js";

if (!haveChromium) console.warn(`browser tests skipped: ${CHROMIUM} is absent (CI installs it)`);

describe.skipIf(!haveChromium)("the review page in Chromium", () => {
  let h: Harness;
  let server: RunningServer;
  let browser: Browser;
  let token: string;
  const outputs: Output[] = [];

  beforeAll(async () => {
    h = await harness("browser");
    server = await startServer({ ...h.deps, host: "127.0.0.1", port: 0 });
    token = (await makeUser(h, "rev1", ["reviewer"])).token;
    const quotes = [
      "The Islamic State is not protecting Muslims. It is killing them.",
      "This is not a holy war",
      "<script>alert(1)</script>",
    ];
    for (const [i, quoteText] of quotes.entries()) {
      outputs.push(
        await makeOutput(h, {
          campaignId: "why-they-left",
          format: i === 1 ? "portrait" : "square",
          published: {
            quoteText,
            attribution: "A former fighter",
            citation: "ICSR, King's College London, “Victims, Perpetrators, Assets”, 2015-09-21",
          },
          missedDrops: i === 0 ? ["2026-01-05T09:00+03:00"] : [],
        }),
      );
    }
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
      }),
    );
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close(server);
  });

  it("signs in, shows the cards, approves with `a` and rejects with `r` and a comment", async () => {
    // A fresh context is a fresh profile: no cookies from anywhere else.
    const context = await browser.newContext({ viewport: { width: 1440, height: 1100 } });
    const page = await context.newPage();
    const alerts: string[] = [];
    page.on("dialog", (d) => {
      alerts.push(d.message());
      void d.dismiss();
    });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));

    await mkdir("test-output", { recursive: true });
    await page.goto(`${server.url}/review`);
    expect(new URL(page.url()).pathname).toBe("/review/login");
    await page.screenshot({ path: "test-output/review-login.png" });
    await page.fill("#token", token);
    await Promise.all([page.waitForURL(`${server.url}/review`), page.click("button[type=submit]")]);

    const cards = page.locator("article.card");
    await expect.poll(() => cards.count()).toBe(4);
    await page.waitForFunction(() => Array.from(document.images).every((i) => i.complete));
    const widths = await page.$$eval("article.card img", (imgs) =>
      imgs.map((i) => (i as HTMLImageElement).naturalWidth),
    );
    expect(widths.every((w) => w > 0)).toBe(true);
    expect(await page.locator(`article[data-id="${outputs[2]!.id}"] blockquote`).textContent()).toBe(
      "<script>alert(1)</script>",
    );
    expect(await page.locator(`article[data-id="${outputs[3]!.id}"] blockquote`).getAttribute("dir")).toBe(
      "rtl",
    );

    // The first card has focus on load; j and k move it.
    const first = cards.nth(0);
    const second = cards.nth(1);
    await page.keyboard.press("j");
    await expect.poll(() => second.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.press("k");
    await expect.poll(() => first.evaluate((el) => el === document.activeElement)).toBe(true);

    await page.keyboard.press("a");
    await expect.poll(() => first.getAttribute("class")).toContain("approved");
    // Focus moved on to the next card: reject it with a comment.
    await expect.poll(() => second.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.press("r");
    await page.locator("#reject-dialog").waitFor({ state: "visible" });
    await page.fill("#reject-comment", "The citation does not name the interview.");
    await page.screenshot({ path: "test-output/review-reject.png" });
    await page.click("#reject-submit");
    await expect.poll(() => second.getAttribute("class")).toContain("rejected");

    // Full size on click.
    await cards.nth(3).locator(".thumb").click();
    await page.locator("#viewer").waitFor({ state: "visible" });
    await page.keyboard.press("Escape");

    const stored = (await h.store.outputs.getMany([outputs[0]!.id, outputs[1]!.id, outputs[2]!.id])).map(
      (v) => v.value,
    );
    expect(stored.map((o) => o.status)).toEqual(["approved", "rejected", "in_review"]);
    expect(stored[0]!.decisions[0]).toMatchObject({ decision: "approved", by: "rev1" });
    expect(stored[1]!.decisions[0]).toMatchObject({
      decision: "rejected",
      by: "rev1",
      comment: "The citation does not name the interview.",
    });
    expect(alerts).toEqual([]);
    expect(errors).toEqual([]);

    await page.screenshot({ path: "test-output/review.png", fullPage: true });
    await context.close();
  });
});
