import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importQuotes, importSpeakers } from "../../src/app/import.service.js";
import { changeVetting } from "../../src/app/quotes.service.js";
import type { RunningServer } from "../../src/http/server.js";
import { type Harness, makeOutput, makeUser } from "../http/fixtures.js";
import { axeViolations as axe, CHROMIUM, haveChromium } from "../support/browser.js";
import { signedInPage, startBrowserSite } from "../support/workspace-browser.js";

if (!haveChromium) console.warn(`browser tests skipped: ${CHROMIUM} is absent (CI installs it)`);

const HEADER =
  "id,speaker_id,text,locale,narrative,source_title,source_publisher,source_url,source_published_at";
const row = (id: string, text: string, date = "2015-09-21") =>
  `${id},ws-defector,"${text}",en,brutality,"Victims, Perpetrators, Assets","ICSR, King's College London",https://icsr.info/report,${date}`;

describe.skipIf(!haveChromium)("the staff workspace in Chromium", () => {
  let h: Harness;
  let server: RunningServer;
  let browser: Browser;
  let staff: string;
  let reviewer: string;

  beforeAll(async () => {
    ({ h, server, browser } = await startBrowserSite("browser-workspace"));
    staff = (await makeUser(h, "staff1", ["staff"])).token;
    reviewer = (await makeUser(h, "rev1", ["reviewer"])).token;
    await importSpeakers(
      h.store,
      Buffer.from("pseudonym,attribution,id\nA defector,anonymous,ws-defector\n"),
      "speakers.csv",
      "test",
    );
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close(server);
  });

  const signedIn = (token: string, path: string) =>
    signedInPage(browser, server, token, path, {
      // A CSP refusal would show here; a missing favicon is the only 404 a page may cause.
      ignoreConsole: "404",
      failedResponses: true,
      onLoginPage: (page) => expect(new URL(page.url()).pathname).toBe("/review/login"),
    });

  it("staff upload a CSV, see the bad row's error beside its field, fix it, import, and vet a quote", async () => {
    const { page, context, errors } = await signedIn(staff, "/workspace/quotes");
    const nav = await page.locator("nav.mainnav a").allTextContents();
    expect(nav).toEqual(["Quotes", "Speakers", "Campaigns", "Review", "Audit"]);

    const bad = [
      HEADER,
      row("ws-1", "They killed Muslims."),
      row("ws-2", "It was no holy war.", "21/09/2015"),
    ].join("\n");
    await page.setInputFiles("#import-file", {
      name: "quotes.csv",
      mimeType: "text/csv",
      buffer: Buffer.from(bad),
    });
    const badRow = page.locator('#check tr.row-bad[data-line="3"]');
    await badRow.waitFor();
    expect(await badRow.locator("td.cell-bad").getAttribute("data-column")).toBe("source_published_at");
    expect(await page.locator('#check tr.row-errors[data-line="3"] li').textContent()).toContain(
      "must be a date as YYYY-MM-DD",
    );
    // The good row is not listed as a problem; nothing was stored by the check.
    expect(await page.locator('#check tr.row-bad[data-line="2"]').count()).toBe(0);
    expect(await page.locator("#import-confirm").count()).toBe(0);
    expect(await h.store.quotes.ids([])).toEqual([]);
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: "test-output/workspace-quotes-check.png", fullPage: true });

    const good = [HEADER, row("ws-1", "They killed Muslims."), row("ws-2", "It was no holy war.")].join("\n");
    await page.setInputFiles("#import-file", {
      name: "quotes.csv",
      mimeType: "text/csv",
      buffer: Buffer.from(good),
    });
    const confirm = page.locator("#import-confirm");
    await confirm.waitFor();
    expect(await confirm.textContent()).toBe("Import 2 quotes");
    await Promise.all([page.waitForURL(/done=imported/), confirm.click()]);
    expect(await page.locator(".notice").first().textContent()).toContain("2 records imported");
    expect(await page.locator("ol.quotes > li").count()).toBe(2);
    // Provenance in view.
    const first = page.locator('li[data-id="ws-1"]');
    expect(await first.locator(".provenance").textContent()).toContain("ICSR, King's College London");
    expect(await first.locator('.provenance a[href="https://icsr.info/report"]').count()).toBe(1);

    await Promise.all([page.waitForURL(/done=vet/), first.getByRole("button", { name: "Vet" }).click()]);
    expect((await h.store.quotes.get("ws-1"))!.value.vetting).toMatchObject({
      state: "vetted",
      by: "staff1",
    });
    expect(await page.locator('li[data-id="ws-1"] .badge').textContent()).toBe("vetted");

    // Filter by state and search text.
    await page.selectOption("select[name=state]", "pending");
    await Promise.all([page.waitForURL(/state=pending/), page.click(".filters button[type=submit]")]);
    expect(await page.locator("ol.quotes > li").count()).toBe(1);
    expect(await page.locator("ol.quotes > li").getAttribute("data-id")).toBe("ws-2");
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: "test-output/workspace-quotes.png", fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
  });

  it("withdrawing consent first says what will happen (N outputs withdrawn, M takedowns), changing nothing", async () => {
    await importSpeakers(
      h.store,
      Buffer.from("pseudonym,attribution,id\nA <b>second</b> defector,anonymous,ws-second\n"),
      "speakers.csv",
      "test",
    );
    for (const status of ["in_review", "approved", "exported"] as const)
      await makeOutput(h, { speakerId: "ws-second", campaignId: "camp-w", status });
    const { page, context, errors } = await signedIn(staff, "/workspace/speakers");
    const row = page.locator('tr[data-id="ws-second"]');
    // Escaped, not markup.
    expect(await row.locator("th").textContent()).toContain("A <b>second</b> defector");
    expect(await row.locator("td").nth(2).textContent()).toContain("1 output exported");
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: "test-output/workspace-speakers.png", fullPage: true });

    await Promise.all([
      page.waitForURL(/\/withdraw$/),
      row.getByRole("link", { name: "Withdraw consent…" }).click(),
    ]);
    expect(await page.locator("#withdraw-count").textContent()).toContain(
      "2 outputs not yet exported will be withdrawn",
    );
    expect(await page.locator("#takedown-count").textContent()).toContain("1 takedown:");
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: "test-output/workspace-withdraw.png", fullPage: true });
    // The preview changed nothing.
    const before = (await h.store.outputs.list(["speaker:ws-second"])).map((o) => o.status).sort();
    expect(before).toEqual(["approved", "exported", "in_review"]);
    expect((await h.store.speakers.get("ws-second"))!.value.consent).toBeUndefined();

    await page.fill("#reason", "asked by phone");
    await Promise.all([page.waitForURL(/done=withdrawn/), page.click("#withdraw-confirm")]);
    expect(await page.locator(".notice").first().textContent()).toContain(
      "2 outputs withdrawn, 1 takedowns for later bundles",
    );
    const after = (await h.store.outputs.list(["speaker:ws-second"])).map((o) => o.status).sort();
    expect(after).toEqual(["exported", "withdrawn", "withdrawn"]);
    expect(await h.redis.smembers(h.store.takedownsKey("camp-w"))).toHaveLength(1);

    // A redaction term, added through the form, listed back.
    await page.fill("#term", "Abu Example");
    await Promise.all([
      page.waitForURL(/done=redaction-added/),
      page.click(".term-form button[type=submit]"),
    ]);
    expect(await page.locator(".terms-table td .term").first().textContent()).toBe("Abu Example");
    expect(errors).toEqual([]);
    await context.close();
  });

  it("staff create a campaign in the form and watch the live preview follow their edits", async () => {
    await importSpeakers(
      h.store,
      Buffer.from("pseudonym,attribution,id\nPreviewed,anonymous,ws-prev\n"),
      "speakers.csv",
      "test",
    );
    const csv = [HEADER, row("ws-prev-q", "Previewed words.").replace("ws-defector", "ws-prev")].join("\n");
    await importQuotes(h.store, Buffer.from(csv), "q.csv", "test");
    await changeVetting(h.store, "ws-prev-q", "vet", "test");

    const { page, context, errors } = await signedIn(staff, "/workspace/campaigns");
    await Promise.all([page.waitForURL(/\/new$/), page.click("#new-campaign")]);
    await page.selectOption("#p-quote", "ws-prev-q");
    // One card per format × locale of the form (square × en here), from POST /api/campaigns/preview.
    const card = page.locator('#preview-grid figure[data-format="square"][data-locale="en"]');
    const img = card.locator("img");
    // Choosing the quote starts a new debounced render: the grid says "pending", then "rendering", then
    // "done". Until then the card on screen may be the one drawn for the page's first quote.
    await expect
      .poll(() => page.locator("#preview-grid").getAttribute("data-state"), { timeout: 15_000 })
      .toBe("done");
    await expect.poll(() => card.getAttribute("data-state")).toBe("ok");
    expect(await img.evaluate((i) => (i as HTMLImageElement).naturalWidth)).toBe(1080);
    const firstSrc = await img.getAttribute("src");
    expect(await page.locator("#contrast").textContent()).toContain("Text contrast");

    // A colour change re-renders the card (debounced), from the unsaved form.
    await page.fill("#f-background", "#7a1f1f");
    await expect.poll(() => img.getAttribute("src")).not.toBe(firstSrc);
    await expect.poll(() => card.getAttribute("data-state")).toBe("ok");
    // Text the colour of the background: a contrast warning, on the form and on each card.
    await page.fill("#f-text", "#7a1f1f");
    await expect.poll(() => page.locator("#contrast").textContent()).toContain("below WCAG AA");
    await expect.poll(() => card.locator(".contrast-note").textContent()).toContain("Low contrast");
    await page.fill("#f-text", "#f5f1e8");
    // A draft the schema refuses says why in place of the card.
    await page.fill("#f-cron", "whenever");
    await expect.poll(() => card.locator(".fit").textContent()).toContain("schedule.cron");
    await expect
      .poll(() => page.locator("#schedule-info").textContent())
      .toContain("invalid cron expression");
    await page.fill("#f-cron", "0 9 * * 1");
    await page.fill("#f-id", "ws-camp");
    await page.fill("#f-name", "Why they left");
    await page.fill("#f-region", "Iraq");
    await page.fill("#f-tz", "Asia/Baghdad");
    await page.fill("#f-hashtags", "#WhyTheyLeft #Truth");
    await expect.poll(() => card.getAttribute("data-state")).toBe("ok");
    await expect.poll(() => page.locator("#schedule-info").textContent()).toContain("At 09:00, on Monday.");
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: "test-output/workspace-campaign-form.png", fullPage: true });

    await Promise.all([page.waitForURL(/done=created/), page.click("#campaign-save")]);
    expect((await h.store.campaigns.get("ws-camp"))!.value.brand.background).toBe("#7a1f1f");
    expect(await page.locator('tr[data-id="ws-camp"] th').textContent()).toContain("Why they left");
    await Promise.all([
      page.waitForURL(/done=paused/),
      page.locator('tr[data-id="ws-camp"]').getByRole("button", { name: "Pause" }).click(),
    ]);
    expect(await page.locator('tr[data-id="ws-camp"] .badge').textContent()).toBe("paused");
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: "test-output/workspace-campaigns.png", fullPage: true });
    // The refused draft (bad cron) was a 400 from the preview API, as intended; nothing else failed.
    const unexpected = errors.filter(
      (e) => !e.includes("/api/campaigns/preview") && !e.includes("status of 400"),
    );
    expect(unexpected).toEqual([]);
    await context.close();
  }, 120_000);

  it("a reviewer sees no staff navigation and is refused the staff pages", async () => {
    await makeOutput(h, { campaignId: "c1" });
    const { page, context } = await signedIn(reviewer, "/review");
    expect(await page.locator("nav.mainnav a").allTextContents()).toEqual(["Review", "Audit"]);
    const res = await page.goto(`${server.url}/workspace/quotes`);
    expect(res!.status()).toBe(403);
    expect(await page.locator("body").textContent()).toContain("403");
    await context.close();
  });
});
