import type { Worker } from "bullmq";
import { pino } from "pino";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/http/server.js";
import { connectRedis } from "../../src/store/redis.js";
import { createStore } from "../../src/store/store.js";
import { createRenderWorker } from "../../src/workers/render.worker.js";
import { type Harness, makeUser } from "../http/fixtures.js";
import { axeViolations as axe, CHROMIUM, haveChromium } from "../support/browser.js";
import { aQuote, saveAll } from "../support/builders.js";
import { REDIS_URL } from "../support/redis.js";
import {
  LONG,
  NEW_YORK,
  signedInPage,
  startBrowserSite,
  twoSpeakerCampaign,
} from "../support/workspace-browser.js";

if (!haveChromium) console.warn(`browser tests skipped: ${CHROMIUM} is absent (CI installs it)`);

/**
 * The campaign form and queueing in Chromium, on a real render worker: the preview grid with each
 * card's own warnings and the schedule in two zones; queueing with the progress bar reaching the end,
 * failed outputs with their reason and a retry.
 */
describe.skipIf(!haveChromium)("campaign preview and queue progress in Chromium", () => {
  let h: Harness;
  let server: RunningServer;
  let browser: Browser;
  let staff: string;
  let worker: Worker | undefined;
  const workerConn = connectRedis(REDIS_URL, "worker");
  let dataDirOfWorker: string;

  beforeAll(async () => {
    ({ h, server, browser } = await startBrowserSite("browser-ws-preview"));
    staff = (await makeUser(h, "staff1", ["staff"])).token;
    const world = twoSpeakerCampaign();
    await saveAll(h.store, {
      ...world,
      quotes: [
        ...world.quotes,
        aQuote("q-long", "s2", { text: LONG }),
        aQuote("q-mid", "s2", {
          text: "We came for a state built on justice and found checkpoints, bribes and commanders who stole from the widows of the men they sent to die.",
        }),
      ],
    });
    dataDirOfWorker = h.dataDir;
  });

  afterAll(async () => {
    await worker?.close();
    await workerConn.quit();
    await browser?.close();
    await h?.close(server);
  });

  const signedIn = (path: string) => signedInPage(browser, server, staff, path, NEW_YORK);

  it("previews every format × locale, says on its own card when a quote cannot fit, and shows the schedule in two zones", async () => {
    const { page, context, errors } = await signedIn("/workspace/campaigns/why-they-left/edit");
    const grid = page.locator("#preview-grid");
    await page.selectOption("#p-quote", "q1");
    await expect.poll(() => grid.locator("figure").count(), { timeout: 15_000 }).toBe(4);
    await expect.poll(() => grid.getAttribute("data-state"), { timeout: 20_000 }).toBe("done");
    const states = await grid
      .locator("figure")
      .evaluateAll((fs) =>
        fs.map(
          (f) =>
            `${(f as HTMLElement).dataset.format}/${(f as HTMLElement).dataset.locale}:${(f as HTMLElement).dataset.state}`,
        ),
      );
    expect(states).toEqual(["square/en:ok", "square/ar:ok", "landscape/en:ok", "landscape/ar:ok"]);
    const landscape = grid.locator('figure[data-format="landscape"][data-locale="en"] img');
    expect(await landscape.evaluate((i) => (i as HTMLImageElement).naturalWidth)).toBe(1200);
    const squareEn = grid.locator('figure[data-format="square"][data-locale="en"] .fit');
    const px = async () => Number(/text at (\d+) px/.exec((await squareEn.textContent()) ?? "")?.[1]);
    const shortSize = await px();
    expect(shortSize).toBeGreaterThan(0);

    // A longer quote gets a smaller font on the same card.
    await page.selectOption("#p-quote", "q-mid");
    await expect.poll(() => grid.getAttribute("data-state"), { timeout: 20_000 }).toBe("done");
    expect(await px()).toBeLessThan(shortSize);

    // A 1,000-character quote with the caption only (its post would be too long): landscape cannot fit.
    for (const v of ["post", "alt_text"]) await page.uncheck(`input[name=textVariants][value=${v}]`);
    await page.selectOption("#p-quote", "q-long");
    await expect.poll(() => grid.getAttribute("data-state"), { timeout: 20_000 }).toBe("done");
    const wide = grid.locator('figure[data-format="landscape"][data-locale="en"]');
    expect(await wide.getAttribute("data-state")).toBe("cannot_fit");
    expect(await wide.locator(".fit").textContent()).toContain(
      "Cannot fit: this quote is too long for a landscape card",
    );
    expect(await grid.locator('figure[data-locale="ar"] .fit').first().textContent()).toContain(
      "has no translation in ar",
    );
    expect(await page.locator("#preview-message").textContent()).toContain("with a warning");

    // Low contrast: every card repeats the warning.
    await page.selectOption("#p-quote", "q1");
    await page.fill("#f-text", "#1a2a3a");
    await expect.poll(() => grid.getAttribute("data-state"), { timeout: 20_000 }).toBe("done");
    expect(await grid.locator(".contrast-note.warn").count()).toBe(4);
    await page.fill("#f-text", "#ffffff");
    await expect.poll(() => grid.locator(".contrast-note.warn").count(), { timeout: 20_000 }).toBe(0);

    // The schedule in words, and its next five drops in Baghdad and in the viewer's New York.
    const sched = page.locator("#schedule-info");
    await expect
      .poll(() => sched.locator("th").allTextContents())
      .toEqual(["Campaign's zone (Asia/Baghdad)", "Your zone (America/New_York)"]);
    expect(await sched.locator(".schedule-description").textContent()).toContain("At 09:00, on Monday.");
    expect(await sched.locator("tbody tr").count()).toBe(5);
    expect(await sched.locator("tbody tr td").first().textContent()).toMatch(/^Mon, .* 09:00 GMT\+3$/);
    await page.fill("#f-cron", "30 8 * * 1-5");
    await expect
      .poll(() => sched.locator(".schedule-description").textContent())
      .toContain("At 08:30, on Monday to Friday.");
    await page.fill("#f-cron", "0 9 * * 1");
    await expect.poll(() => sched.locator(".schedule-description").textContent()).toContain("At 09:00");
    await expect.poll(() => grid.getAttribute("data-state"), { timeout: 20_000 }).toBe("done");
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: "test-output/workspace-campaign-preview.png", fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  it("queues after confirmation and watches the progress bar reach the end; failed outputs show their reason and retry", async () => {
    const { page, context, errors } = await signedIn("/workspace/campaigns/why-they-left/queue");
    expect(await page.locator("#plan-summary").textContent()).toContain("= 10 outputs");
    await Promise.all([page.waitForURL(/\/progress\?n=10/), page.click("#queue-confirm")]);
    const progress = page.locator("#progress");
    // Nothing renders yet: the bar waits.
    expect(await progress.getAttribute("data-done")).toBe("false");
    expect(await page.locator("#progress progress").getAttribute("value")).toBe("0");
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: "test-output/workspace-queue-waiting.png", fullPage: true });

    worker = createRenderWorker(
      {
        store: createStore(workerConn, h.prefix),
        dataDir: dataDirOfWorker,
        templates: h.deps.templates,
        log: pino({ level: "silent" }),
      },
      workerConn,
      h.store.keys,
      { concurrency: 2 },
    );
    await expect
      .poll(() => page.locator("#progress").getAttribute("data-done"), { timeout: 45_000 })
      .toBe("true");
    expect(await page.locator("#progress-label").textContent()).toMatch(/10 of 10 outputs finished \(100%\)/);
    expect(await page.locator("#progress progress").getAttribute("value")).toBe("10");
    // The long quote's post is over 280 characters: both its outputs fail, with that reason.
    const failed = page.locator(".failed-table tbody tr");
    expect(await failed.count()).toBe(2);
    expect(await failed.first().locator(".reason").textContent()).toContain("variant_too_long");
    await expect
      .poll(() => page.locator("#status").textContent())
      .toContain("Rendering finished: 8 rendered, 2 failed.");
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: "test-output/workspace-queue-progress.png", fullPage: true });

    const id = await failed.first().getAttribute("data-id");
    await Promise.all([
      page.waitForURL(/done=retried/),
      failed.first().getByRole("button", { name: /Retry/ }).click(),
    ]);
    expect(await page.locator(".notice").first().textContent()).toContain("queued again");
    // It fails again for the same reason (the text did not change), and the page says so once done.
    await expect
      .poll(() => page.locator("#progress").getAttribute("data-done"), { timeout: 30_000 })
      .toBe("true");
    expect((await h.store.outputs.get(id!))!.value.status).toBe("failed");
    expect(errors).toEqual([]);
    await context.close();
  }, 90_000);
});
