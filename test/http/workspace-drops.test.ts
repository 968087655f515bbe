import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withdrawConsent } from "../../src/app/safety.service.js";
import type { RunningServer } from "../../src/http/server.js";
import { aCampaign, anOutput, aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { type Session, siteClient, startSite } from "../support/site.js";
import { type Harness, makeUser } from "./fixtures.js";

/**
 * The workspace's campaign pages over a real socket: POST /api/campaigns/preview (token or session +
 * CSRF), the schedule field's description, queue progress with retry, drops (plan, drop now, download,
 * takedowns), coverage and audit; 401/403 per role on each.
 */
let h: Harness;
let server: RunningServer;
let staff: Session;
let reviewer: Session;
let staffToken: string;
let reviewerToken: string;
const site = siteClient(() => server.url);
const signIn = (token: string) => site.signIn(token);
const { get } = site;
const post = (path: string, s: Session | undefined, form: Record<string, string | string[]> = {}) =>
  site.post(path, s, form, { csrf: true });

const DRAFT = {
  id: "draft",
  name: "",
  audience: { region: "" },
  locales: ["en", "ar"],
  narratives: ["corruption"],
  formats: ["square", "landscape"],
  brand: { background: "#102030", text: "#ffffff", accent: "#e0a526" },
  hashtags: ["#WhyTheyLeft"],
  schedule: { cron: "0 9 * * 1", timeZone: "Asia/Baghdad" },
  exposure: { maxPerSpeakerPerDrop: 3 },
};
function preview(body: unknown, auth: { session?: Session; token?: string; csrf?: string | null } = {}) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (auth.token) headers.authorization = `Bearer ${auth.token}`;
  if (auth.session) {
    headers.cookie = `tm_session=${auth.session.cookie}`;
    if (auth.csrf !== null) headers["x-csrf-token"] = auth.csrf ?? auth.session.csrf;
  }
  return fetch(`${server.url}/api/campaigns/preview`, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
  });
}

beforeAll(async () => {
  ({ h, server } = await startSite("http-ws-drops"));
  staffToken = (await makeUser(h, "staff1", ["staff"])).token;
  reviewerToken = (await makeUser(h, "rev1", ["reviewer"])).token;
  staff = await signIn(staffToken);
  reviewer = await signIn(reviewerToken);
  await saveAll(h.store, {
    // One output per speaker per drop: the second approved output of s1 is held back.
    campaigns: [aCampaign({ exposure: { maxPerSpeakerPerDrop: 1 } })],
    speakers: [aSpeaker("s1"), aSpeaker("s2", { pseudonym: "<b>Two</b>" })],
    quotes: [
      aQuote("q1", "s1"),
      aQuote("q2", "s1"),
      aQuote("q3", "s2"),
      aQuote("q1-ar", "s1", { locale: "ar", text: "هذه ليست حربا مقدسة.", translationOf: "q1" }),
      aQuote("q-long", "s2", { text: "They lied to us about everything. ".repeat(29).trim() }),
    ],
  });
});
afterAll(() => h.close(server));

describe("POST /api/campaigns/preview", () => {
  it("renders a draft's card for a token or a signed-in page, in the quote's translation for another locale", async () => {
    const body = { campaign: DRAFT, quoteId: "q1", format: "square", locale: "en" };
    const byToken = await preview(body, { token: staffToken });
    expect(byToken.status).toBe(200);
    expect(byToken.headers.get("content-type")).toBe("image/png");
    const png = Buffer.from(await byToken.arrayBuffer());
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    expect(Number(byToken.headers.get("x-font-size"))).toBeGreaterThan(0);
    const bySession = await preview(body, { session: staff });
    expect(bySession.status).toBe(200);
    // Arabic: the vetted translation of q1.
    const ar = await preview({ ...body, locale: "ar" }, { session: staff });
    expect(ar.status).toBe(200);
    expect(ar.headers.get("x-quote-id")).toBe("q1-ar");
    const other = await preview(
      { ...body, campaign: { ...DRAFT, brand: { ...DRAFT.brand, background: "#ffffff", text: "#000000" } } },
      { token: staffToken },
    );
    expect(Buffer.from(await other.arrayBuffer()).equals(png)).toBe(false);
    expect(await h.store.campaigns.get("draft")).toBeUndefined();
  });

  it("refuses with JSON errors from the catalogue: bad draft (field named), cannot fit (its own reason), no translation", async () => {
    const bad = await preview(
      {
        campaign: { ...DRAFT, schedule: { cron: "whenever", timeZone: "UTC" } },
        quoteId: "q1",
        format: "square",
      },
      { token: staffToken },
    );
    expect(bad.status).toBe(400);
    const badBody = (await bad.json()) as { error: string; details: { field: string }[] };
    expect(badBody.error).toBe("invalid_input");
    expect(badBody.details.map((d) => d.field)).toContain("schedule.cron");
    const long = await preview(
      // Only the caption: the post and alt text would be refused first for their length (variant_too_long).
      {
        campaign: { ...DRAFT, textVariants: ["caption"] },
        quoteId: "q-long",
        format: "landscape",
        locale: "en",
      },
      { token: staffToken },
    );
    expect(long.status).toBe(409);
    const longBody = (await long.json()) as { error: string; details: { field: string }[] };
    expect(longBody.error).toBe("invalid_state");
    expect(longBody.details[0]!.field).toBe("cannot_fit");
    const none = await preview(
      { campaign: DRAFT, quoteId: "q2", format: "square", locale: "ar" },
      { token: staffToken },
    );
    expect(none.status).toBe(404);
    expect(((await none.json()) as { message: string }).message).toBe("quote q2 has no translation in ar");
    const badFormat = await preview(
      { campaign: DRAFT, quoteId: "q1", format: "poster" },
      { token: staffToken },
    );
    expect(badFormat.status).toBe(400);
  });

  it("401 without a credential, 403 for reviewers, 403 for a session without the CSRF token; in the OpenAPI file", async () => {
    const body = { campaign: DRAFT, quoteId: "q1", format: "square" };
    expect((await preview(body)).status).toBe(401);
    expect((await preview(body, { token: reviewerToken })).status).toBe(403);
    expect((await preview(body, { session: reviewer })).status).toBe(403);
    const noCsrf = await preview(body, { session: staff, csrf: null });
    expect(noCsrf.status).toBe(403);
    expect(((await noCsrf.json()) as { message: string }).message).toContain("CSRF");
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      paths: Record<
        string,
        Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>
      >;
    };
    const op = doc.paths["/api/campaigns/preview"]!.post!;
    expect(Object.keys(op.responses["200"]!.content!)).toEqual(["image/png"]);
    expect(op.responses["409"]).toBeDefined();
  });
});

describe("campaign form: schedule", () => {
  it("describes the cron in words with the next five drops in the campaign's zone and the viewer's", async () => {
    const res = await get(
      "/workspace/campaigns/schedule?cron=30+8+*+*+1-5&timeZone=Asia/Baghdad&viewerZone=America/New_York",
      staff,
    );
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("At 08:30, on Monday to Friday.");
    expect(html.match(/<tr data-at=/g)).toHaveLength(5);
    expect(html).toContain("Your zone (America/New_York)");
    expect(html).toMatch(
      /<td><time datetime="[^"]+T05:30:00\.000Z">[^<]*08:30 GMT\+3<\/time><\/td><td>[^<]*(00|01):30 GMT-[45]<\/td>/,
    );
    const bad = await (
      await get("/workspace/campaigns/schedule?cron=61+*+*+*+*&timeZone=Mars/Base", staff)
    ).text();
    expect(bad).toContain('data-state="invalid"');
    expect(bad).toContain("invalid cron expression");
    expect((await get("/workspace/campaigns/schedule?cron=0+9+*+*+1&timeZone=UTC", reviewer)).status).toBe(
      403,
    );
    expect((await get("/workspace/campaigns/schedule?cron=0+9+*+*+1&timeZone=UTC")).status).toBe(401);
    // The form shows it from the start.
    const form = await (await get("/workspace/campaigns/new", staff)).text();
    expect(form).toContain("At 09:00, on Monday.");
    expect(form).toContain('id="preview-grid"');
  });
});

describe("queue progress", () => {
  it("counts outputs until none waits, lists failures with their reason, retries one; htmx polls a fragment", async () => {
    const q3 = aQuote("q3", "s2");
    const failed = await anOutput(h.store, h.dataDir, q3, { id: "o-fail", status: "failed" });
    const f = (await h.store.outputs.get("o-fail"))!;
    await h.store.outputs.commit({
      writes: [
        h.store.outputs.write(
          {
            ...failed,
            failure: {
              reason: "cannot_fit",
              message: "the quote <em>does not fit</em>",
              at: failed.updatedAt,
              attempts: 1,
            },
          },
          f,
        ),
      ],
    });
    const page = await get("/workspace/campaigns/why-they-left/progress?n=1&s=0", staff);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("1 outputs queued for rendering; 0 quotes left out.");
    expect(html).toContain('data-done="true"');
    expect(html).toMatch(
      /<strong>1<\/strong> of <strong>1<\/strong> outputs finished \(100%\): 0 rendered, 1 failed, 0 waiting/,
    );
    expect(html).toContain("<strong>cannot_fit</strong>: the quote &lt;em&gt;does not fit&lt;/em&gt;");
    expect(html).toContain('action="/workspace/outputs/o-fail/retry"');
    // An id on each button: htmx puts focus back on it after each poll's swap.
    expect(html).toContain('<button type="submit" id="retry-o-fail">');
    expect((await get("/workspace/campaigns/why-they-left/progress", reviewer)).status).toBe(403);
    expect((await post("/workspace/outputs/o-fail/retry", reviewer)).status).toBe(403);
    expect((await post("/workspace/outputs/o-fail/retry", undefined)).status).toBe(401);

    const retried = await post("/workspace/outputs/o-fail/retry", staff);
    expect(retried.status).toBe(303);
    expect(retried.headers.get("location")).toBe("/workspace/campaigns/why-they-left/progress?done=retried");
    expect((await h.store.outputs.get("o-fail"))!.value.status).toBe("queued");
    const frag = await (
      await get("/workspace/campaigns/why-they-left/progress", staff, { "hx-request": "true" })
    ).text();
    expect(frag).not.toContain("<html");
    expect(frag).toContain('data-done="false"');
    expect(frag).toContain('hx-trigger="load delay:1s"');
    expect(frag).toContain("0 failed, 1 waiting");
    // Retrying what is not failed is the API's refusal.
    expect((await post("/workspace/outputs/o-fail/retry", staff)).status).toBe(409);
  });
});

describe("drops", () => {
  it("shows the next four weeks, what the next drop would hold (approved, held back, in review), drops now, downloads, acknowledges takedowns", async () => {
    await anOutput(h.store, h.dataDir, aQuote("q1", "s1"), { approvedAt: "2026-11-02T00:00:00.000Z" });
    await anOutput(h.store, h.dataDir, aQuote("q2", "s1"), { approvedAt: "2026-11-03T00:00:00.000Z" });
    await anOutput(h.store, h.dataDir, aQuote("q3", "s2"), { id: "o-review", status: "in_review" });
    const page = await get("/workspace/campaigns/why-they-left/drops", staff);
    expect(page.status).toBe(200);
    const html = await page.text();
    // Mondays at 09:00 in Baghdad: four (or five) in four weeks.
    expect(
      (html.match(/<li><time datetime="[^"]+T06:00:00\.000Z">Mon, /g) ?? []).length,
    ).toBeGreaterThanOrEqual(4);
    expect(html).toMatch(/Would go out: <strong>1<\/strong>/);
    expect(html).toMatch(/Held back by the exposure cap: <strong>1<\/strong>/);
    expect(html).toMatch(/Still in review: <strong>1<\/strong>/);
    expect(html).toContain('data-id="o-q1-square"');
    expect(html).toContain("Pseudonym s1: 1");
    expect(html).toContain('id="drop-now"');
    expect(html).toContain("No bundle yet.");
    // Reading the plan changed nothing.
    expect((await h.store.outputs.get("o-q1-square"))!.value.bundleId).toBeUndefined();

    // Reviewers may look (the API's read permission) but not drop.
    const asReviewer = await get("/workspace/campaigns/why-they-left/drops", reviewer);
    expect(asReviewer.status).toBe(200);
    expect(await asReviewer.text()).not.toContain('id="drop-now"');
    expect((await post("/workspace/campaigns/why-they-left/drop", reviewer)).status).toBe(403);
    expect((await post("/workspace/campaigns/why-they-left/drop", undefined)).status).toBe(401);
    expect((await get("/workspace/campaigns/why-they-left/drops")).status).toBe(303);

    const dropped = await post("/workspace/campaigns/why-they-left/drop", staff);
    expect(dropped.status).toBe(303);
    const location = dropped.headers.get("location")!;
    expect(location).toMatch(
      /^\/workspace\/campaigns\/why-they-left\/drops\?done=dropped&b=b-why-they-left-\d+$/,
    );
    const bundleId = new URL(location, server.url).searchParams.get("b")!;
    const bundle = (await h.store.bundles.get(bundleId))!.value;
    expect(bundle.outputIds).toEqual(["o-q1-square"]);
    const after = await (await get(location, staff)).text();
    expect(after).toContain(`Dropped: bundle ${bundleId} is written.`);
    expect(after).toContain(`href="/api/bundles/${bundleId}/download"`);
    expect(after).toContain(bundle.zipSha256!);
    expect(after).toMatch(/Would go out: <strong>1<\/strong>/); // q2, no longer held back

    // The page's download link works with the session (staff and reviewers), and the bytes are the bundle's.
    for (const s of [staff, reviewer]) {
      const zip = await get(`/api/bundles/${bundleId}/download`, s);
      expect(zip.status).toBe(200);
      const bytes = Buffer.from(await zip.arrayBuffer());
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(bundle.zipSha256);
    }
    expect((await get(`/api/bundles/${bundleId}/download`)).status).toBe(401);

    // A withdrawal turns the dropped output into a takedown, listed until acknowledged.
    await withdrawConsent(h.store, "s1", "staff1");
    const listed = await (await get("/workspace/campaigns/why-they-left/drops", staff)).text();
    expect(listed).toContain("Takedowns (1)");
    expect(listed).toMatch(
      /<tr data-id="o-q1-square"><td><input type="checkbox" name="ids" value="o-q1-square"/,
    );
    expect(
      (await post("/workspace/campaigns/why-they-left/takedowns/ack", reviewer, { ids: "o-q1-square" }))
        .status,
    ).toBe(403);
    const unknown = await post("/workspace/campaigns/why-they-left/takedowns/ack", staff, { ids: "o-nope" });
    expect(unknown.status).toBe(400);
    const ack = await post("/workspace/campaigns/why-they-left/takedowns/ack", staff, {
      ids: ["o-q1-square"],
    });
    expect(ack.headers.get("location")).toBe(
      "/workspace/campaigns/why-they-left/drops?done=acknowledged&n=1",
    );
    const cleared = await (await get(ack.headers.get("location")!, staff)).text();
    expect(cleared).toContain("Takedowns (0)");
    expect(cleared).toContain("1 takedowns acknowledged");
    expect((await get("/workspace/campaigns/nope/drops", staff)).status).toBe(404);
  });
});

describe("drops of a frequent schedule", () => {
  it("lists the first 60 drops and says there are more, without computing four weeks of every-5-second slots", async () => {
    await saveAll(h.store, {
      campaigns: [aCampaign({ id: "fast", schedule: { cron: "*/5 * * * * *", timeZone: "UTC" } })],
    });
    const started = Date.now();
    const html = await (await get("/workspace/campaigns/fast/drops", staff)).text();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(html.match(/<li><time datetime=/g)).toHaveLength(60);
    expect(html).toContain("…and more within four weeks.");
  });
});

describe("coverage", () => {
  it("draws narrative × locale × format with empty cells marked; same permission as the API", async () => {
    const res = await get("/workspace/campaigns/why-they-left/coverage", staff);
    expect(res.status).toBe(200);
    const html = await res.text();
    // Campaign: 4 narratives × 2 locales × 1 format; quotes only in corruption (en and ar).
    expect(html.match(/<table class="data heatmap"/g)).toHaveLength(1);
    expect(html.match(/<td class="empty"/g)).toHaveLength(6);
    expect(html).toMatch(
      /<td class="level-\d" data-narrative="corruption" data-locale="en" data-empty="false">\d+ · \d+ · \d+<\/td>/,
    );
    expect(html).toMatch(
      /<td class="empty" data-narrative="brutality" data-locale="ar" data-empty="true">none<\/td>/,
    );
    expect(html).toContain("<strong>6</strong> of 8 cells have no material");
    expect((await get("/workspace/campaigns/why-they-left/coverage", reviewer)).status).toBe(200);
    expect((await get("/workspace/campaigns/why-they-left/coverage")).status).toBe(303);
  });
});

describe("audit", () => {
  it("filters by entity, actor, action and date, newest first, links entities, pages by 50", async () => {
    for (let i = 0; i < 60; i++) {
      await h.store.audit.append({
        actor: "bulk<script>",
        action: "campaign.updated",
        entity: "why-they-left",
        at: `2026-10-${String(1 + (i % 28)).padStart(2, "0")}T10:00:00.000Z`,
        detail: `edit ${i}`,
      });
    }
    const all = await get("/workspace/audit?actor=bulk%3Cscript%3E", staff);
    expect(all.status).toBe(200);
    const html = await all.text();
    expect(html).toContain("Entries 1–50 of 60, newest first");
    expect(html).toContain("edit 59");
    expect(html).not.toContain("edit 9<");
    expect(html).toContain("bulk&lt;script&gt;");
    expect(html).not.toContain("bulk<script>");
    expect(html).toContain('href="/workspace/campaigns/why-they-left/edit" class="entity-link"');
    expect(html).toContain('href="/workspace/audit?entity&#x3D;why-they-left" class="entity-history"');
    expect(html).toContain('href="/workspace/audit?actor&#x3D;bulk%3Cscript%3E&amp;page&#x3D;2" rel="next"');
    const two = await (await get("/workspace/audit?actor=bulk%3Cscript%3E&page=2", staff)).text();
    expect(two).toContain("Entries 51–60 of 60");
    const day = await (
      await get("/workspace/audit?actor=bulk%3Cscript%3E&from=2026-10-02&to=2026-10-02", staff)
    ).text();
    expect(day).toContain("Entries 1–3 of 3"); // i = 1, 29 and 57
    const action = await (await get("/workspace/audit?action=output.takedown_acknowledged", staff)).text();
    expect(action).toContain("Entries 1–1 of 1");
    expect(action).toContain('href="/review/cards/o-q1-square"');
    const entity = await (await get("/workspace/audit?entity=o-q1-square", staff)).text();
    expect(entity).toMatch(/data-action="output.exported"/);
    expect(entity).not.toContain('data-action="campaign.updated"');
    expect((await get("/workspace/audit?from=yesterday", staff)).status).toBe(400);
    expect((await get("/workspace/audit", reviewer)).status).toBe(200);
    expect((await get("/workspace/audit")).status).toBe(303);
  });
});
