import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withdrawConsent } from "../../src/app/safety.service.js";
import type { RunningServer } from "../../src/http/server.js";
import { type Harness, makeUser } from "../http/fixtures.js";
import { axeViolations as axe, CHROMIUM, haveChromium } from "../support/browser.js";
import { anOutput, saveAll } from "../support/builders.js";
import {
  NEW_YORK,
  signedInPage,
  startBrowserSite,
  twoSpeakerCampaign,
} from "../support/workspace-browser.js";

if (!haveChromium) console.warn(`browser tests skipped: ${CHROMIUM} is absent (CI installs it)`);

/**
 * A campaign's drops, coverage and audit pages in Chromium: the plan of the next drop, drop now, the
 * download checked against the bundle's sha256, a takedown acknowledged; the coverage heatmap's empty
 * cells; the audit filter and the link to the entity. Outputs are made by the test builders (the
 * render worker is exercised by workspace-campaign-preview.test.ts).
 */
describe.skipIf(!haveChromium)("drops, coverage and audit pages in Chromium", () => {
  let h: Harness;
  let server: RunningServer;
  let browser: Browser;
  let staff: string;

  beforeAll(async () => {
    ({ h, server, browser } = await startBrowserSite("browser-ws-drops"));
    staff = (await makeUser(h, "staff1", ["staff"])).token;
    const world = twoSpeakerCampaign();
    await saveAll(h.store, world);
    // What the render worker and a reviewer would leave: s1 has four approved outputs, s2 two.
    for (const q of world.quotes)
      for (const format of ["square", "landscape"] as const)
        await anOutput(h.store, h.dataDir, q, { format });
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close(server);
  });

  const signedIn = (path: string) => signedInPage(browser, server, staff, path, NEW_YORK);

  it("drops page: the plan, drop now, download checked against the sha256, takedown acknowledged", async () => {
    const { page, context, errors } = await signedIn("/workspace/campaigns/why-they-left/drops");
    page.on("dialog", (d) => d.accept());
    expect(await page.locator("#upcoming li").count()).toBeGreaterThanOrEqual(4);
    // s1 has 4 approved (q1 and q1-ar × 2 formats), s2 has 2 (q2): one each goes out, the rest waits.
    expect(await page.locator('#next-counts li[data-kind="selected"] strong').textContent()).toBe("2");
    expect(await page.locator('#next-counts li[data-kind="held"] strong').textContent()).toBe("4");
    expect(await axe(page)).toEqual([]);

    await Promise.all([page.waitForURL(/done=dropped/), page.click("#drop-now")]);
    expect(await page.locator(".notice").first().textContent()).toMatch(
      /Dropped: bundle b-why-they-left-\d+ is written/,
    );
    const row = page.locator(".bundles-table tbody tr").first();
    const shown = (await row.locator("code.sha").textContent())!.trim();
    const [download] = await Promise.all([page.waitForEvent("download"), row.locator("a.download").click()]);
    const file = await download.path();
    const bytes = await readFile(file!);
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(shown);
    const bundleId = await row.getAttribute("data-id");
    expect((await h.store.bundles.get(bundleId!))!.value.zipSha256).toBe(shown);

    // s1 withdraws: the dropped output becomes a takedown, listed until acknowledged.
    await withdrawConsent(h.store, "s1", "staff1");
    await page.reload();
    expect(await page.locator("#takedowns-title").textContent()).toBe("Takedowns (1)");
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: "test-output/workspace-drops.png", fullPage: true });
    await Promise.all([page.waitForURL(/done=acknowledged/), page.click("#ack-takedowns")]);
    expect(await page.locator("#status").textContent()).toContain("1 takedowns acknowledged");
    expect(await page.locator("#takedowns-title").textContent()).toBe("Takedowns (0)");
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  it("coverage heatmap marks empty cells; the audit page filters and links to the entity", async () => {
    const { page, context, errors } = await signedIn("/workspace/campaigns/why-they-left/coverage");
    // 2 narratives × 2 locales × 2 formats; nothing in brutality.
    expect(await page.locator("table.heatmap").count()).toBe(2);
    expect(await page.locator("td.empty").count()).toBe(4);
    expect(
      await page.locator('td[data-narrative="corruption"][data-locale="en"]').first().getAttribute("class"),
    ).toMatch(/level-\d/);
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: "test-output/workspace-coverage.png", fullPage: true });

    await page.click('nav.mainnav a[href="/workspace/audit"]');
    await page.waitForURL(/\/workspace\/audit$/);
    await page.selectOption("#a-action", "bundle.complete");
    await Promise.all([page.waitForURL(/action=bundle.complete/), page.click("#audit-filter")]);
    const rows = page.locator(".audit-table tbody tr");
    expect(await rows.count()).toBe(1);
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: "test-output/workspace-audit.png", fullPage: true });
    await Promise.all([page.waitForURL(/\/drops$/), rows.first().locator("a.entity-link").click()]);
    expect(await page.locator("h1").textContent()).toContain("Drops");
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);
});
