import type { Browser } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addRedaction } from "../../src/app/safety.service.js";
import type { RunningServer } from "../../src/http/server.js";
import { type Harness, makeUser } from "../http/fixtures.js";
import { axeViolations as axe, CHROMIUM, haveChromium } from "../support/browser.js";
import { aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { signedInPage, startBrowserSite } from "../support/workspace-browser.js";

if (!haveChromium) console.warn(`browser tests skipped: ${CHROMIUM} is absent (CI installs it)`);

const PRIVATE = "Realname Browser-Qz";

/** Redaction removal, the audited reveal, the users page and quote paging, in Chromium. */
describe.skipIf(!haveChromium)("workspace admin pages in Chromium", () => {
  let h: Harness;
  let server: RunningServer;
  let browser: Browser;
  let staff: string;
  let admin: string;

  beforeAll(async () => {
    ({ h, server, browser } = await startBrowserSite("browser-workspace-admin"));
    staff = (await makeUser(h, "staff1", ["staff"])).token;
    admin = (await makeUser(h, "admin1", ["admin"])).token;
    const quotes = Array.from({ length: 60 }, (_, i) => {
      const at = new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString();
      return aQuote(`bq-${String(i).padStart(2, "0")}`, "bw-speaker", {
        text: i % 20 ? `Quote number ${i}.` : `A rare word ${i}.`,
        createdAt: at,
        updatedAt: at,
      });
    });
    await saveAll(h.store, {
      speakers: [aSpeaker("bw-speaker", { pseudonym: "Abu Browser", private: { realName: PRIVATE } })],
      quotes,
    });
    await addRedaction(h.store, "Browser Term", "staff1", "bw-speaker");
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close(server);
  });

  const signedIn = (token: string, path: string) =>
    // A missing element fails with its locator named, well inside the test's own deadline.
    signedInPage(browser, server, token, path, { defaultTimeout: 20_000, ignoreConsole: "404" });

  it("staff remove a redaction term after a confirmation, by keyboard; no reveal for staff", async () => {
    const { page, context, errors } = await signedIn(staff, "/workspace/speakers");
    expect(await page.locator("button.reveal").count()).toBe(0);
    const row = page.locator(".terms-table tbody tr").filter({ hasText: "Browser Term" });
    expect(await row.locator("td").nth(1).textContent()).toBe("Abu Browser");
    await row.getByRole("link", { name: /Remove the term Browser Term/ }).focus();
    await Promise.all([page.waitForURL(/\/remove$/), page.keyboard.press("Enter")]);
    expect(await page.locator("#term-text").textContent()).toBe("Browser Term");
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: "test-output/workspace-redaction-remove.png", fullPage: true });
    await Promise.all([page.waitForURL(/done=redaction-removed/), page.click("#remove-confirm")]);
    expect(await page.locator("#status").textContent()).toBe("Redaction term removed.");
    expect(await page.locator(".terms-table").count()).toBe(0);
    expect(await h.store.redactions.ids()).toEqual([]);
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: "test-output/workspace-speakers.png", fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
  }, 90_000);

  it("an admin reveals private fields (audited), manages users, and the nav shows Users", async () => {
    const { page, context, errors } = await signedIn(admin, "/workspace/speakers");
    const nav = await page.locator("nav.mainnav a").allTextContents();
    expect(nav).toContain("Users");
    expect(await page.content()).not.toContain(PRIVATE);
    await Promise.all([
      page.waitForURL(/\/reveal$/),
      page.getByRole("button", { name: /Reveal private fields of Abu Browser/ }).click(),
    ]);
    expect(await page.locator("#real-name").textContent()).toBe(PRIVATE);
    expect(await page.locator("#status").textContent()).toContain("the audit trail records it");
    const reads = (await h.store.audit.list({ entity: "bw-speaker" })).filter(
      (a) => a.action === "speaker.private_read",
    );
    expect(reads.map((a) => a.actor)).toEqual(["admin1"]);
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: "test-output/workspace-speaker-private.png", fullPage: true });

    await page.goto(`${server.url}/workspace/users`);
    expect(await page.locator(".users-table tbody tr").count()).toBe(2);
    await page.getByLabel("Name").fill("new-reviewer");
    await page.getByRole("checkbox", { name: "reviewer" }).check();
    await Promise.all([
      page.waitForLoadState("load"),
      page.getByRole("button", { name: /Add user/ }).click(),
    ]);
    const token = await page.locator("#token").inputValue();
    expect(token).toMatch(/^tm_/);
    expect(await page.locator("#status").textContent()).toContain("shown only once");
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: "test-output/workspace-user-token.png", fullPage: true });

    await page.goto(`${server.url}/workspace/users`);
    await Promise.all([
      page.waitForURL(/\/revoke$/),
      page.getByRole("link", { name: "Revoke new-reviewer…" }).click(),
    ]);
    await Promise.all([page.waitForURL(/done=revoked/), page.click("#revoke-confirm")]);
    expect(await page.locator("#status").textContent()).toContain("new-reviewer: revoked");
    expect(await page.locator('tr[data-id="new-reviewer"] td.state').textContent()).toContain("revoked");
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: "test-output/workspace-users.png", fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
  }, 90_000);

  it("the quote list pages by cursor and a text search says how far it searched", async () => {
    const { page, context, errors } = await signedIn(staff, "/workspace/quotes");
    expect(await page.locator(".summary").first().textContent()).toContain("Quotes 1–50 of 60");
    await Promise.all([page.waitForURL(/after=/), page.getByRole("link", { name: "Next" }).click()]);
    expect(await page.locator("ol.quotes > li").count()).toBe(10);
    expect(await page.locator(".summary").first().textContent()).toContain("Quotes 51–60 of 60");
    await page.goto(`${server.url}/workspace/quotes?q=rare`);
    expect(await page.locator("ol.quotes > li").count()).toBe(3);
    expect(await page.locator("#search-summary").textContent()).toContain(
      "Found 3 among the 60 quotes searched",
    );
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: "test-output/workspace-quotes-search.png", fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
  }, 90_000);
  it("staff choose a logo in the campaign form: a wrong type is refused on the page, a PNG is uploaded", async () => {
    const { page, context, errors } = await signedIn(staff, "/workspace/campaigns/new");
    const png = await sharp({
      create: { width: 80, height: 40, channels: 4, background: { r: 220, g: 40, b: 40, alpha: 1 } },
    })
      .png()
      .toBuffer();
    await page.setInputFiles("#f-logo-file", { name: "logo.gif", mimeType: "image/gif", buffer: png });
    await page.waitForFunction(() =>
      document.getElementById("logo-status")?.textContent?.includes("PNG or SVG"),
    );
    expect(await page.locator("#f-logo").inputValue()).toBe("");
    await page.setInputFiles("#f-logo-file", { name: "logo.png", mimeType: "image/png", buffer: png });
    await page.waitForFunction(() =>
      document.getElementById("logo-status")?.textContent?.includes("uploaded"),
    );
    const ref = await page.locator("#f-logo").inputValue();
    expect(ref).toMatch(/^blob:[0-9a-f]{64}$/);
    expect(await page.locator("#preview-grid").getAttribute("data-logo")).toBe(ref);
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: "test-output/workspace-campaign-logo.png", fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
  }, 90_000);
});
