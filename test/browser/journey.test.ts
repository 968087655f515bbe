import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import type { Worker } from "bullmq";
import { pino } from "pino";
import type { Browser, BrowserContext, Page } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../src/http/server.js";
import { connectRedis } from "../../src/store/redis.js";
import { createStore } from "../../src/store/store.js";
import { createRenderWorker } from "../../src/workers/render.worker.js";
import { type Harness, harness, makeUser } from "../http/fixtures.js";
import { axeViolations, CHROMIUM, haveChromium, launchChromium } from "../support/browser.js";
import { REDIS_URL } from "../support/redis.js";
import { LONG } from "../support/workspace-browser.js";
import { unzip } from "../support/zip.js";

if (!haveChromium) console.warn(`browser tests skipped: ${CHROMIUM} is absent (CI installs it)`);

const CAMPAIGN = "journey";
/** The deadline of every wait: generous, as the 2-core machine is often shared (load average 15+). */
const WAIT = { timeout: 30_000 };
const SPEAKERS =
  "id,pseudonym,attribution\nj-defector,A defector,anonymous\nj-fighter,A former fighter,anonymous\n";
const HEADER =
  "id,speaker_id,text,locale,narrative,source_title,source_publisher,source_url,source_published_at,translation_of";
const row = (
  id: string,
  speaker: string,
  text: string,
  { locale = "en", narrative = "brutality", date = "2015-09-21", of = "" } = {},
) =>
  `${id},${speaker},"${text}",${locale},${narrative},"Victims, Perpetrators, Assets","ICSR, King's College London",https://icsr.info/report,${date},${of}`;
const SHORT = "This is not a holy war.";
const MID =
  "We came for a state built on justice and found checkpoints, bribes and commanders who stole from the widows of the men they sent to die.";
const quotesCsv = (badDate: string) =>
  [
    HEADER,
    row("j-1", "j-defector", SHORT),
    row("j-2", "j-fighter", MID, { date: badDate }),
    row("j-1-ar", "j-defector", "هذه ليست حربا مقدسة.", { locale: "ar", of: "j-1" }),
    // Outside the campaign's narratives: previewed, never queued.
    row("j-long", "j-fighter", LONG, { narrative: "corruption" }),
  ].join("\n");

/**
 * The staff journey of issue 14, one test, in Chromium on a real server, real Redis and a real render
 * worker, from an empty store (a fresh key prefix holding two users and nothing else): import with a
 * bad row then fixed, vetting, a campaign made in the form with a logo and its live preview, queueing
 * with the progress bar, a reviewer's approvals in /review, drop now and the downloaded zip checked,
 * a withdrawal and its takedown, and the pages in Arabic. Every page visited passes axe-core (no
 * serious or critical violation) and leaves test-output/journey-<nn>-<page>.png.
 */
describe.skipIf(!haveChromium)("the staff journey, from an empty store to a downloaded bundle", () => {
  let h: Harness;
  let server: RunningServer;
  let browser: Browser;
  let worker: Worker | undefined;
  const workerConn = connectRedis(REDIS_URL, "worker");
  let staff: string;
  let reviewer: string;

  beforeAll(async () => {
    h = await harness("browser-journey");
    server = await startServer({ ...h.deps, host: "127.0.0.1", port: 0 });
    staff = (await makeUser(h, "staff1", ["staff"])).token;
    reviewer = (await makeUser(h, "rev1", ["reviewer"])).token;
    // The render worker the deployment runs, in this process, on its own connection.
    worker = createRenderWorker(
      {
        store: createStore(workerConn, h.prefix),
        dataDir: h.dataDir,
        templates: h.deps.templates,
        log: pino({ level: "silent" }),
      },
      workerConn,
      h.store.keys,
      { concurrency: 2 },
    );
    await mkdir("test-output", { recursive: true });
    // Last run's screenshots go first: what is there after a run is this run's.
    for (const f of await readdir("test-output"))
      if (/^journey-\d+-.*\.png$/.test(f)) await rm(`test-output/${f}`);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await worker?.close();
    await workerConn.quit();
    await browser?.close();
    await h?.close(server);
  });

  let shot = 0;
  /** axe-core on the page as it is now, then its screenshot as test-output/journey-<nn>-<name>.png. */
  async function check(page: Page, name: string) {
    expect(await axeViolations(page), `axe on ${name}`).toEqual([]);
    shot++;
    await page.screenshot({
      path: `test-output/journey-${String(shot).padStart(2, "0")}-${name}.png`,
      fullPage: true,
    });
  }

  async function signIn(token: string, path: string): Promise<{ page: Page; context: BrowserContext }> {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 1000 },
      timezoneId: "Asia/Baghdad",
      acceptDownloads: true,
    });
    const page = await context.newPage();
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => {
      // A CSP refusal would show here; the preview's refusals (4xx) are answers the page shows.
      if (m.type() === "error" && !m.text().includes("status of 4")) errors.push(m.text());
    });
    page.on("dialog", (d) => void d.accept());
    await page.goto(`${server.url}${path}`);
    expect(new URL(page.url()).pathname).toBe("/review/login");
    // The sign-in page is checked once: the reviewer's is the same page.
    if (token === staff) await check(page, "login");
    await page.fill("#token", token);
    await Promise.all([page.waitForURL(`${server.url}${path}`), page.click("button[type=submit]")]);
    return { page, context };
  }
  const errors: string[] = [];

  it("staff import, vet, design a campaign with a live preview, queue, drop, download, withdraw, and read it in Arabic", async () => {
    expect(await h.redis.keys(`${h.prefix}:quote*`)).toEqual([]);
    const { page, context } = await signIn(staff, "/workspace/quotes");

    // 1. Speakers, then quotes: the check shows the bad row's error at its row and field.
    await page.selectOption("#import-kind", "speakers");
    await page.setInputFiles("#import-file", {
      name: "speakers.csv",
      mimeType: "text/csv",
      buffer: Buffer.from(SPEAKERS),
    });
    await page.locator("#import-confirm").waitFor();
    await Promise.all([page.waitForURL(/done=imported/), page.click("#import-confirm")]);
    expect((await h.store.speakers.list()).map((s) => s.id).sort()).toEqual(["j-defector", "j-fighter"]);

    await page.selectOption("#import-kind", "quotes");
    await page.setInputFiles("#import-file", {
      name: "quotes.csv",
      mimeType: "text/csv",
      buffer: Buffer.from(quotesCsv("21/09/2015")),
    });
    const badRow = page.locator('#check tr.row-bad[data-line="3"]');
    await badRow.waitFor();
    expect(await page.locator("#check tr.row-bad").count()).toBe(1);
    expect(await badRow.locator("td.cell-bad").getAttribute("data-column")).toBe("source_published_at");
    expect(await page.locator('#check tr.row-errors[data-line="3"] li').textContent()).toContain(
      "must be a date as YYYY-MM-DD",
    );
    expect(await page.locator("#import-confirm").count()).toBe(0);
    expect(await h.store.quotes.ids([])).toEqual([]);
    await check(page, "quotes-check");

    await page.setInputFiles("#import-file", {
      name: "quotes.csv",
      mimeType: "text/csv",
      buffer: Buffer.from(quotesCsv("2015-09-21")),
    });
    await expect.poll(() => page.locator("#import-confirm").textContent(), WAIT).toBe("Import 4 quotes");
    await Promise.all([page.waitForURL(/done=imported/), page.click("#import-confirm")]);
    expect(await page.locator("ol.quotes > li").count()).toBe(4);

    // 2. Vet two quotes and one translation (and the long quote, which the preview uses).
    for (const id of ["j-1", "j-2", "j-1-ar", "j-long"]) {
      await Promise.all([
        page.waitForURL(/done=vet/),
        page.locator(`li[data-id="${id}"]`).getByRole("button", { name: "Vet" }).click(),
      ]);
      expect(await page.locator(`li[data-id="${id}"] .badge`).textContent()).toBe("vetted");
    }
    expect((await h.store.quotes.get("j-1-ar"))!.value.vetting).toMatchObject({
      state: "vetted",
      by: "staff1",
    });
    await check(page, "quotes-vetted");

    // 3. A new campaign in the form, with a logo and the live preview.
    await page.click('nav.mainnav a[href="/workspace/campaigns"]');
    await page.waitForURL(/\/workspace\/campaigns$/);
    await check(page, "campaigns-empty");
    await page.goto(`${server.url}/workspace/campaigns/new`);
    await page.fill("#f-id", CAMPAIGN);
    await page.fill("#f-name", "Why they left (journey)");
    await page.fill("#f-region", "Iraq");
    await page.fill("#f-locales", "en ar");
    for (const n of ["infighting", "corruption", "disillusionment", "other"])
      await page.uncheck(`input[name=narratives][value=${n}]`);
    await page.check("input[name=formats][value=landscape]");
    await page.fill("#f-hashtags", "#WhyTheyLeft");
    await page.fill("#f-tz", "Asia/Baghdad");
    const logo = await sharp({
      create: { width: 96, height: 96, channels: 4, background: { r: 224, g: 165, b: 38, alpha: 1 } },
    })
      .png()
      .toBuffer();
    await page.setInputFiles("#f-logo-file", { name: "logo.png", mimeType: "image/png", buffer: logo });
    await expect.poll(() => page.locator("#logo-status").textContent(), WAIT).toContain("logo.png uploaded");
    expect(await page.locator("#f-logo").inputValue()).toMatch(/^blob:/);

    const grid = page.locator("#preview-grid");
    const done = () => expect.poll(() => grid.getAttribute("data-state"), WAIT).toBe("done");
    await page.selectOption("#p-quote", "j-1");
    await expect.poll(() => grid.locator("figure").count(), WAIT).toBe(4);
    await done();
    const states = () =>
      grid.locator("figure").evaluateAll((fs) => fs.map((f) => (f as HTMLElement).dataset.state));
    expect(await states()).toEqual(["ok", "ok", "ok", "ok"]);
    const squareEn = grid.locator('figure[data-format="square"][data-locale="en"]');
    /** The card as the page shows it, read back through a canvas: what the eye would compare. */
    const pixels = () =>
      squareEn.locator("img").evaluate((i) => {
        const img = i as HTMLImageElement;
        const c = document.createElement("canvas");
        c.width = img.naturalWidth;
        c.height = img.naturalHeight;
        const g = c.getContext("2d")!;
        g.drawImage(img, 0, 0);
        const [r, gr, b] = g.getImageData(4, Math.floor(c.height / 2), 1, 1).data;
        return { url: c.toDataURL(), edge: [r, gr, b] };
      });
    const before = await pixels();
    expect(before.edge).toEqual([0x0f, 0x1f, 0x2e]);
    await page.fill("#f-background", "#4a1020");
    await done();
    const after = await pixels();
    expect(after.url).not.toBe(before.url);
    expect(after.edge).toEqual([0x4a, 0x10, 0x20]);

    const px = async () =>
      Number(/text at (\d+) px/.exec((await squareEn.locator(".fit").textContent()) ?? "")?.[1]);
    const shortSize = await px();
    expect(shortSize).toBeGreaterThan(0);
    await page.selectOption("#p-quote", "j-2");
    await done();
    expect(await px()).toBeLessThan(shortSize);
    await check(page, "campaign-form-preview");

    // The 1,000-character quote, caption only (its post would be refused as too long): landscape cannot fit.
    for (const v of ["post", "alt_text"]) await page.uncheck(`input[name=textVariants][value=${v}]`);
    await page.selectOption("#p-quote", "j-long");
    await done();
    const wide = grid.locator('figure[data-format="landscape"][data-locale="en"]');
    expect(await wide.getAttribute("data-state")).toBe("cannot_fit");
    expect(await wide.locator(".fit").textContent()).toContain(
      "Cannot fit: this quote is too long for a landscape card",
    );
    await check(page, "campaign-form-cannot-fit");
    for (const v of ["post", "alt_text"]) await page.check(`input[name=textVariants][value=${v}]`);
    await page.selectOption("#p-quote", "j-1");
    await done();
    await Promise.all([page.waitForURL(/\/workspace\/campaigns(\?|$)/), page.click("#campaign-save")]);
    const saved = (await h.store.campaigns.get(CAMPAIGN))!.value;
    expect(saved.brand.logo).toMatch(/^blob:/);
    expect(saved.brand.background).toBe("#4a1020");
    expect(saved.narratives).toEqual(["brutality"]);
    await check(page, "campaigns");

    // 4. Queue: the plan first (the long quote is outside the narratives), then the progress bar.
    await page.goto(`${server.url}/workspace/campaigns/${CAMPAIGN}/queue`);
    expect(await page.locator("#plan-summary").textContent()).toContain("= 6 outputs");
    await check(page, "queue-plan");
    await Promise.all([page.waitForURL(/\/progress\?n=6/), page.click("#queue-confirm")]);
    await expect
      .poll(() => page.locator("#progress").getAttribute("data-done"), { timeout: 45_000 })
      .toBe("true");
    expect(await page.locator("#progress-label").textContent()).toMatch(/6 of 6 outputs finished \(100%\)/);
    expect(await page.locator(".failed-table tbody tr").count()).toBe(0);
    await expect.poll(() => page.locator("#status").textContent(), WAIT).toContain("6 rendered, 0 failed");
    await check(page, "queue-progress");

    // 5. A reviewer approves every card in /review with the keyboard.
    const rev = await signIn(reviewer, "/review");
    const cards = rev.page.locator("article.card");
    await expect.poll(() => cards.count(), WAIT).toBe(6);
    await rev.page.waitForFunction(() => Array.from(document.images).every((i) => i.complete));
    await check(rev.page, "review");
    for (let i = 0; i < 6; i++) {
      await expect.poll(() => cards.nth(i).evaluate((el) => el === document.activeElement), WAIT).toBe(true);
      await rev.page.keyboard.press("a");
      await expect.poll(() => cards.nth(i).getAttribute("class"), WAIT).toContain("approved");
    }
    await check(rev.page, "review-approved");
    await rev.context.close();

    // 6. Drop now; the download's sha256 against the page, the bundle's API and its manifest.
    await page.goto(`${server.url}/workspace/campaigns/${CAMPAIGN}/drops`);
    // Three per speaker per drop: the defector's four approved outputs leave one for later.
    expect(await page.locator('#next-counts li[data-kind="selected"] strong').textContent()).toBe("5");
    expect(await page.locator('#next-counts li[data-kind="held"] strong').textContent()).toBe("1");
    await check(page, "drops-before");
    await Promise.all([page.waitForURL(/done=dropped/), page.click("#drop-now")]);
    const bundleRow = page.locator(".bundles-table tbody tr").first();
    const bundleId = (await bundleRow.getAttribute("data-id"))!;
    const shown = (await bundleRow.locator("code.sha").textContent())!.trim();
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      bundleRow.locator("a.download").click(),
    ]);
    const file = (await download.path())!;
    const zipSha = createHash("sha256")
      .update(await readFile(file))
      .digest("hex");
    // The bundle as the API gives it to a script holding the staff user's token.
    const api = await page.request.get(`${server.url}/api/bundles/${bundleId}`, {
      headers: { authorization: `Bearer ${staff}` },
    });
    expect(api.status()).toBe(200);
    const bundle = (await api.json()) as { zipSha256: string; outputIds: string[] };
    expect(zipSha).toBe(bundle.zipSha256);
    expect(zipSha).toBe(shown);
    const entries = await unzip(file);
    const manifest = JSON.parse(entries.get("manifest.json")!.toString("utf8")) as {
      outputs: { id: string; files: { path: string; sha256: string }[] }[];
    };
    expect(manifest.outputs).toHaveLength(5);
    for (const o of manifest.outputs)
      for (const f of o.files)
        expect(createHash("sha256").update(entries.get(f.path)!).digest("hex"), f.path).toBe(f.sha256);
    await check(page, "drops-dropped");

    // 7. The defector withdraws: the dropped outputs become takedowns on the drops page.
    await page.click('nav.mainnav a[href="/workspace/speakers"]');
    await page.waitForURL(/\/workspace\/speakers$/);
    await check(page, "speakers");
    await Promise.all([
      page.waitForURL(/\/withdraw$/),
      page.locator('tr[data-id="j-defector"]').getByRole("link", { name: "Withdraw consent…" }).click(),
    ]);
    expect(await page.locator("#takedown-count").textContent()).toContain("3 takedowns");
    await check(page, "withdraw");
    await page.fill("#reason", "asked by phone");
    await Promise.all([page.waitForURL(/done=withdrawn/), page.click("#withdraw-confirm")]);
    await page.goto(`${server.url}/workspace/campaigns/${CAMPAIGN}/drops`);
    expect(await page.locator("#takedowns-title").textContent()).toBe("Takedowns (3)");
    await check(page, "drops-takedowns");

    // 8. Arabic: the top bar's language button; the page mirrors and its labels are translated.
    await Promise.all([page.waitForURL(/\/drops$/), page.getByRole("button", { name: "العربية" }).click()]);
    const html = await page.evaluate(() => ({
      lang: document.documentElement.lang,
      dir: document.documentElement.dir,
    }));
    expect(html).toEqual({ lang: "ar", dir: "rtl" });
    expect(await page.locator("nav.mainnav a").allTextContents()).toEqual([
      "الاقتباسات",
      "المتحدثون",
      "الحملات",
      "المراجعة",
      "سجل التدقيق",
    ]);
    await check(page, "drops-ar");
    await page.click('nav.mainnav a[href="/workspace/quotes"]');
    await page.waitForURL(/\/workspace\/quotes$/);
    expect(await page.evaluate(() => document.documentElement.dir)).toBe("rtl");
    await check(page, "quotes-ar");
    // /review is translated throughout: its labels are the Arabic catalogue's, not the English.
    const ar = JSON.parse(await readFile("src/templates/pages/i18n/ar.json", "utf8"));
    const en = JSON.parse(await readFile("src/templates/pages/i18n/en.json", "utf8"));
    expect(ar.review.filter).not.toBe(en.review.filter);
    await page.click('nav.mainnav a[href="/review"]');
    await page.waitForURL(/\/review$/);
    expect(await page.evaluate(() => document.documentElement.dir)).toBe("rtl");
    expect((await page.locator("form.filters button[type=submit]").textContent())?.trim()).toBe(
      ar.review.filter,
    );
    await check(page, "review-ar");

    expect(errors).toEqual([]);
    await context.close();
  }, 300_000);
});
