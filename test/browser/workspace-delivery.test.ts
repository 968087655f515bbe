import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliver } from "../../src/app/deliver.service.js";
import { exportSlot } from "../../src/app/export.service.js";
import type { RunningServer } from "../../src/http/server.js";
import { createDeliveryStore } from "../../src/store/delivery.store.js";
import { type Harness, makeUser } from "../http/fixtures.js";
import { axeViolations as axe, CHROMIUM, haveChromium } from "../support/browser.js";
import { anOutput, aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { signedInPage, startBrowserSite } from "../support/workspace-browser.js";

if (!haveChromium) console.warn(`browser tests skipped: ${CHROMIUM} is absent (CI installs it)`);

/** A webhook target added in the campaign form, its secret seen once, a failed delivery redelivered. */
describe.skipIf(!haveChromium)("workspace delivery targets in Chromium", () => {
  let h: Harness;
  let server: RunningServer;
  let browser: Browser;
  let staff: string;

  beforeAll(async () => {
    ({ h, server, browser } = await startBrowserSite("browser-workspace-delivery"));
    staff = (await makeUser(h, "staff1", ["staff"])).token;
  });

  afterAll(async () => {
    await browser?.close();
    await h?.queues.deliver.obliterate({ force: true }).catch(() => {});
    await h?.close(server);
  });

  it("adds a webhook target, shows its secret once, and redelivers a failed drop", async () => {
    const { page, context, errors } = await signedInPage(browser, server, staff, "/workspace/campaigns/new", {
      defaultTimeout: 20_000,
      ignoreConsole: "404",
      until: /\/campaigns\/new$/,
    });

    await page.getByLabel("Id (letters, digits, dashes)").fill("hooked");
    await page.getByLabel("Name", { exact: true }).fill("Hooked");
    await page.getByLabel("Audience region").fill("UK");
    const row = page.locator(".delivery-target").filter({ has: page.locator("select[data-delivery-type]") });
    await row.getByLabel("Type").selectOption("webhook");
    // Only the webhook's fields show for a webhook.
    expect(await row.locator('[data-for-type="s3"]').isHidden()).toBe(true);
    await row.getByLabel("Target id").fill("partner");
    // Nothing listens on port 9: every delivery attempt fails at once.
    await row.getByLabel("Webhook URL").fill("http://127.0.0.1:9/hooks");
    expect(await axe(page)).toEqual([]);
    await Promise.all([page.waitForURL(/\/workspace\/campaigns$/), page.click("#campaign-save")]);

    expect(await page.locator(".field-error").allTextContents()).toEqual([]);
    const secret = await page.getByLabel("Secret for partner").inputValue();
    expect(secret).toMatch(/^whsec_/);
    expect(await page.locator("#status").textContent()).toContain("shown only once");
    expect(await createDeliveryStore(h.store).signingSecrets("hooked", "partner")).toEqual([secret]);
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: "test-output/workspace-delivery-secret.png", fullPage: true });

    // Never again on a later load: the edit form keeps the target and offers a rotation instead.
    await page.goto(`${server.url}/workspace/campaigns/hooked/edit`);
    expect(await page.content()).not.toContain(secret);
    expect(await page.locator("#d1-url").inputValue()).toBe("http://127.0.0.1:9/hooks");
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: "test-output/workspace-delivery-form.png", fullPage: true });
    await Promise.all([
      page.waitForURL(/rotate-secret$/),
      page.getByRole("button", { name: "Rotate secret of webhook partner" }).click(),
    ]);
    const rotated = await page.getByLabel("Secret for partner").inputValue();
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);

    // A drop whose webhook delivery failed for good (the deliver code's last attempt).
    // (The quote is stored only now: with no vetted quote the form renders no live preview cards.)
    await saveAll(h.store, { speakers: [aSpeaker("s1")], quotes: [aQuote("q1", "s1")] });
    await anOutput(h.store, h.dataDir, aQuote("q1", "s1"), { campaignId: "hooked" });
    const r = await exportSlot(
      { ...h.deps, deliver: h.queues.deliver },
      { campaignId: "hooked", slot: new Date("2026-11-23T06:00:00Z"), actor: "staff1" },
    );
    if (r.status !== "written") throw new Error(r.status);
    const jobId = `deliver-${r.bundle.id}-partner`;
    await (await h.queues.deliver.getJob(jobId))?.remove();
    await expect(
      deliver(
        { ...h.deps, publicUrl: "http://testimony.example", namedSecret: () => undefined },
        { event: "bundle.dropped", campaignId: "hooked", targetId: "partner", subject: r.bundle.id },
        { number: 8, final: true },
      ),
    ).rejects.toThrow(/webhook partner/);

    await page.goto(`${server.url}/workspace/campaigns/hooked/drops`);
    const cell = page.locator('li.delivery[data-target="partner"]');
    expect(await cell.locator(".badge").textContent()).toBe("failed");
    expect(await cell.textContent()).toContain("1 attempt");
    expect(await cell.locator(".delivery-error").textContent()).toContain("webhook partner");
    const button = cell.getByRole("button", { name: `Redeliver bundle ${r.bundle.id} to partner` });
    await button.focus();
    await Promise.all([page.waitForURL(/done=redelivered/), page.keyboard.press("Enter")]);
    expect(await page.locator("#status").textContent()).toBe(
      `Bundle ${r.bundle.id} queued for delivery to partner again.`,
    );
    expect(await (await h.queues.deliver.getJob(jobId))!.getState()).toBe("waiting");
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: "test-output/workspace-delivery.png", fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
  }, 90_000);
});
