import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importSpeakers } from "../../src/app/import.service.js";
import type { RunningServer } from "../../src/http/server.js";
import { type Session, siteClient, startSite } from "../support/site.js";
import { type Harness, makeOutput, makeUser } from "./fixtures.js";

/** The staff workspace over a real listening socket: who may do what, CSRF, escaping, the same rules as the CLI. */
let h: Harness;
let server: RunningServer;
let staff: Session;
let reviewer: Session;
const site = siteClient(() => server.url);
const signIn = (token: string, next = "/review") => site.signIn(token, { next });
const get = (path: string, s?: Session) => site.get(path, s);
const post = (path: string, s: Session | undefined, form: Record<string, string>, headers = {}) =>
  site.post(path, s, form, { headers });

const HEADER =
  "id,speaker_id,text,locale,narrative,source_title,source_publisher,source_url,source_published_at";
const row = (id: string, text: string, date = "2015-09-21") =>
  `${id},wsh-speaker,"${text}",en,brutality,Report,"ICSR",https://icsr.info/,${date}`;

const withCsrf = (s: Session, form: Record<string, string> = {}) => ({ ...form, _csrf: s.csrf });

beforeAll(async () => {
  ({ h, server } = await startSite("http-workspace"));
  staff = await signIn((await makeUser(h, "staff1", ["staff"])).token);
  reviewer = await signIn((await makeUser(h, "rev1", ["reviewer"])).token);
  await importSpeakers(
    h.store,
    Buffer.from('pseudonym,attribution,id\n"<script>alert(1)</script>",anonymous,wsh-speaker\n'),
    "speakers.csv",
    "test",
  );
});
afterAll(() => h.close(server));

describe("who may use the workspace", () => {
  it("sends strangers to sign in and back to the page they asked for; refuses their posts", async () => {
    const res = await get("/workspace/quotes?state=pending");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/review/login?next=%2Fworkspace%2Fquotes%3Fstate%3Dpending");
    const token = (await makeUser(h, "staff2", ["staff"])).token;
    expect((await signIn(token, "/workspace/quotes?state=pending")).location).toBe(
      "/workspace/quotes?state=pending",
    );
    // Never out of the app.
    expect((await signIn(token, "//evil.example/workspace")).location).toBe("/review");
    const check = await post("/workspace/quotes/check", undefined, { file: "q.csv", content: "x" });
    expect(check.status).toBe(401);
  });

  it("refuses reviewers the staff pages and actions with 403, and sends them to /review", async () => {
    const home = await get("/workspace", reviewer);
    expect(home.status).toBe(303);
    expect(home.headers.get("location")).toBe("/review");
    expect((await get("/workspace", staff)).headers.get("location")).toBe("/workspace/quotes");
    for (const path of [
      "/workspace/quotes",
      "/workspace/speakers",
      "/workspace/speakers/wsh-speaker/withdraw",
    ]) {
      const res = await get(path, reviewer);
      expect(res.status, path).toBe(403);
      expect(await res.text()).toContain("403");
    }
    const refused = [
      await post("/workspace/quotes/check", reviewer, withCsrf(reviewer, { file: "q.csv", content: "x" })),
      await post("/workspace/quotes/import", reviewer, withCsrf(reviewer, { file: "q.csv", content: "x" })),
      await post("/workspace/redactions", reviewer, withCsrf(reviewer, { term: "Some Name" })),
      await post("/workspace/speakers/wsh-speaker/withdraw", reviewer, withCsrf(reviewer)),
    ];
    expect(refused.map((r) => r.status)).toEqual([403, 403, 403, 403]);
    expect((await h.store.speakers.get("wsh-speaker"))!.value.consent).toBeUndefined();
    expect(await h.store.redactions.ids()).toEqual([]);
  });

  it("refuses a staff post without the CSRF token, with a wrong one, or from another site", async () => {
    const good = [HEADER, row("wsh-csrf", "Nothing stored.")].join("\n");
    const form = { file: "q.csv", content: good };
    const none = await post("/workspace/quotes/import", staff, form);
    const wrong = await post("/workspace/quotes/import", staff, { ...form, _csrf: "x".repeat(43) });
    const foreign = await post("/workspace/quotes/import", staff, withCsrf(staff, form), {
      origin: "https://evil.example",
    });
    expect([none.status, wrong.status, foreign.status]).toEqual([403, 403, 403]);
    expect(((await none.json()) as { message: string }).message).toContain("CSRF");
    expect(await h.store.quotes.get("wsh-csrf")).toBeUndefined();
  });
});

describe("quotes", () => {
  it("checks every row without storing anything, shows errors beside their rows, then imports", async () => {
    const bad = [HEADER, row("wsh-1", "One."), row("wsh-2", "Two.", "21/09/2015"), row("wsh-3", "")].join(
      "\n",
    );
    const page = await post(
      "/workspace/quotes/check",
      staff,
      withCsrf(staff, { file: "q.csv", content: bad }),
    );
    expect(page.status).toBe(400);
    const html = await page.text();
    expect(html).toContain('<tr class="row-bad" data-line="3">');
    expect(html).toContain('<td class="cell-bad" data-column="source_published_at">21/09/2015</td>');
    expect(html).toContain('<tr class="row-bad" data-line="4">');
    expect(html).toContain(
      '<li class="error" data-field="text"><strong>text</strong>: must not be empty</li>',
    );
    expect(html).not.toContain('data-line="2"');
    expect(await h.store.quotes.ids()).toEqual([]);

    // htmx asks for the fragment only.
    const good = [HEADER, row("wsh-1", "One."), row("wsh-2", "Two <b>bold</b>.")].join("\n");
    const frag = await post(
      "/workspace/quotes/check",
      staff,
      withCsrf(staff, { file: "q.csv", content: good }),
      {
        "hx-request": "true",
      },
    );
    expect(frag.status).toBe(200);
    const fragment = await frag.text();
    expect(fragment).not.toContain("<html");
    expect(fragment).toContain("Import 2 quotes");
    expect(await h.store.quotes.ids()).toEqual([]);

    const done = await post(
      "/workspace/quotes/import",
      staff,
      withCsrf(staff, { file: "q.csv", content: good }),
    );
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toBe("/workspace/quotes?done=imported&n=2");
    expect(await h.store.quotes.ids()).toEqual(["wsh-1", "wsh-2"]);
    const list = await (await get("/workspace/quotes?q=bold", staff)).text();
    // Escaped, and the speaker's pseudonym too.
    expect(list).toContain("Two &lt;b&gt;bold&lt;/b&gt;.");
    expect(list).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(list).not.toContain("<script>alert(1)");
    expect(list).toContain('data-id="wsh-2"');
    expect(list).not.toContain('data-id="wsh-1"');
    expect(list).toContain("Found 1 among the 2 quotes searched from the start of the list");
  });

  it("vets, refuses a rejection without a note, rejects with one, retires; same rules as the CLI", async () => {
    const csv = [HEADER, row("wsh-v", "To vet."), row("wsh-r", "To reject.")].join("\n");
    expect(
      (await post("/workspace/quotes/import", staff, withCsrf(staff, { file: "v.csv", content: csv })))
        .status,
    ).toBe(303);
    const vet = await post("/workspace/quotes/wsh-v/vet", staff, withCsrf(staff, { back: "?state=pending" }));
    expect(vet.status).toBe(303);
    expect(vet.headers.get("location")).toBe("/workspace/quotes?state=pending&done=vet");
    // Never redirected out of the list.
    const noNote = await post(
      "/workspace/quotes/wsh-r/reject",
      staff,
      withCsrf(staff, { back: "//evil.example" }),
    );
    expect(noNote.status).toBe(400);
    expect(await noNote.text()).toContain("rejecting a quote needs a note saying why");
    const reject = await post(
      "/workspace/quotes/wsh-r/reject",
      staff,
      withCsrf(staff, { note: "not verifiable" }),
    );
    expect(reject.headers.get("location")).toBe("/workspace/quotes?done=reject");
    const again = await post("/workspace/quotes/wsh-r/retire", staff, withCsrf(staff));
    expect(again.status).toBe(409);
    expect(await again.text()).toContain("cannot retire quote wsh-r: it is rejected");
    expect((await post("/workspace/quotes/wsh-v/retire", staff, withCsrf(staff))).status).toBe(303);
    const [v, r] = (await h.store.quotes.getMany(["wsh-v", "wsh-r"])).map((x) => x.value.vetting);
    expect(v).toMatchObject({ state: "retired", by: "staff1" });
    expect(r).toMatchObject({ state: "rejected", by: "staff1", note: "not verifiable" });
  });
});

describe("speakers", () => {
  it("previews a withdrawal without changing anything, then withdraws; adds redaction terms", async () => {
    await makeOutput(h, { speakerId: "wsh-speaker", campaignId: "wsh-c", status: "in_review" });
    await makeOutput(h, { speakerId: "wsh-speaker", campaignId: "wsh-c", status: "exported" });
    const preview = await get("/workspace/speakers/wsh-speaker/withdraw", staff);
    expect(preview.status).toBe(200);
    const html = await preview.text();
    expect(html).toContain("<strong>1 output</strong> not yet exported will be withdrawn");
    expect(html).toContain("<strong>1 takedown</strong>");
    expect((await h.store.speakers.get("wsh-speaker"))!.value.consent).toBeUndefined();
    expect((await get("/workspace/speakers/nobody/withdraw", staff)).status).toBe(404);

    const res = await post(
      "/workspace/speakers/wsh-speaker/withdraw",
      staff,
      withCsrf(staff, { reason: "asked" }),
    );
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/workspace/speakers?done=withdrawn&w=1&t=1");
    expect((await h.store.speakers.get("wsh-speaker"))!.value.consent?.state).toBe("withdrawn");

    const added = await post(
      "/workspace/redactions",
      staff,
      withCsrf(staff, { term: "Abu Test", speaker: "wsh-speaker" }),
    );
    expect(added.headers.get("location")).toBe("/workspace/speakers?done=redaction-added");
    const short = await post("/workspace/redactions", staff, withCsrf(staff, { term: "A" }));
    expect(short.status).toBe(400);
    expect(await short.text()).toContain("a redaction term needs at least 2 characters");
    const list = await (await get("/workspace/speakers", staff)).text();
    expect(list).toContain('<td><span class="term">Abu Test</span><br><code class="small">r-');
    expect(list).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  });
});

describe("campaigns", () => {
  const form = (over: Record<string, string | string[]> = {}) => {
    const p = new URLSearchParams({
      _csrf: staff.csrf,
      id: "wsh-camp",
      name: "Why they left <i>",
      region: "Iraq",
      locales: "en",
      background: "#0f1f2e",
      backgroundTo: "#1d3b53",
      text: "#f5f1e8",
      accent: "#e0a526",
      hashtags: "#WhyTheyLeft",
      cron: "0 9 * * 1",
      timeZone: "Asia/Baghdad",
      maxPerDrop: "3",
      encoding: "png",
    });
    for (const [k, v] of Object.entries({
      narratives: ["brutality"],
      formats: ["square"],
      textVariants: ["post", "alt_text"],
      ...over,
    })) {
      p.delete(k);
      for (const x of [v].flat()) p.append(k, x);
    }
    return p.toString();
  };
  const send = (path: string, body: string, s: Session = staff) =>
    fetch(`${server.url}${path}`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: `tm_session=${s.cookie}` },
      body,
    });

  it("creates a campaign from the form, with the schema's errors beside their fields first", async () => {
    expect((await get("/workspace/campaigns/new", staff)).status).toBe(200);
    expect((await get("/workspace/campaigns/new", reviewer)).status).toBe(403);
    const bad = await send(
      "/workspace/campaigns",
      form({ cron: "every monday", timeZone: "Mars/Base", formats: [] }),
    );
    expect(bad.status).toBe(400);
    const html = await bad.text();
    expect(html).toMatch(
      /<span class="field-error" id="e-cron">invalid cron expression &quot;every monday&quot;/,
    );
    expect(html).toContain(
      '<span class="field-error" id="e-tz">&quot;Mars/Base&quot; is not an IANA time zone',
    );
    expect(html).toContain('<span class="field-error" id="e-formats">at least one format</span>');
    // What was typed is kept.
    expect(html).toContain('value="Why they left &lt;i&gt;"');
    expect(await h.store.campaigns.get("wsh-camp")).toBeUndefined();
    // No CSRF token, no campaign.
    expect((await send("/workspace/campaigns", form({ _csrf: "" }))).status).toBe(403);

    const ok = await send("/workspace/campaigns", form());
    expect(ok.status, ok.status === 303 ? "" : /role="alert"[^>]*>([^<]*)/.exec(await ok.text())?.[1]).toBe(
      303,
    );
    expect(ok.headers.get("location")).toBe("/workspace/campaigns?done=created");
    const c = (await h.store.campaigns.get("wsh-camp"))!.value;
    expect(c).toMatchObject({
      name: "Why they left <i>",
      createdBy: "staff1",
      schedule: { timeZone: "Asia/Baghdad" },
    });
    const list = await (await get("/workspace/campaigns", staff)).text();
    expect(list).toContain("Why they left &lt;i&gt;");

    const edit = await get("/workspace/campaigns/wsh-camp/edit", staff);
    expect(await edit.text()).toContain('value="0 9 * * 1"');
    const saved = await send("/workspace/campaigns/wsh-camp", form({ hashtags: "#WhyTheyLeft #Truth" }));
    expect(saved.headers.get("location")).toBe("/workspace/campaigns?done=saved");
    expect((await h.store.campaigns.get("wsh-camp"))!.value.hashtags).toEqual(["#WhyTheyLeft", "#Truth"]);
    expect((await send("/workspace/campaigns/wsh-camp/edit", form(), reviewer)).status).toBe(404);
    expect((await send("/workspace/campaigns/wsh-camp", form(), reviewer)).status).toBe(403);
  });

  it("pauses, resumes and queues; previews a card from the unsaved form", async () => {
    if (!(await h.store.campaigns.get("wsh-camp")))
      expect((await send("/workspace/campaigns", form())).status).toBe(303);
    const paused = await post("/workspace/campaigns/wsh-camp/pause", staff, withCsrf(staff));
    expect(paused.headers.get("location")).toBe("/workspace/campaigns?done=paused");
    expect((await h.store.campaigns.get("wsh-camp"))!.value.paused).toBe(true);
    expect((await post("/workspace/campaigns/wsh-camp/resume", staff, withCsrf(staff))).status).toBe(303);
    expect((await h.store.campaigns.get("wsh-camp"))!.value.paused).toBe(false);
    expect((await post("/workspace/campaigns/wsh-camp/pause", reviewer, withCsrf(reviewer))).status).toBe(
      403,
    );

    const csv = [HEADER, row("wsh-p", "The preview quote."), row("wsh-p2", "Not vetted yet.")].join("\n");
    await post("/workspace/quotes/import", staff, withCsrf(staff, { file: "p.csv", content: csv }));
    await post("/workspace/quotes/wsh-p/vet", staff, withCsrf(staff));
    // The speaker withdrew in an earlier case: a new one for this quote's outputs.
    await importSpeakers(
      h.store,
      Buffer.from("pseudonym,attribution,id\nP,anonymous,wsh-p-speaker\n"),
      "s.csv",
      "t",
    );
    const q = (await h.store.quotes.get("wsh-p"))!;
    await h.store.quotes.commit({
      writes: [h.store.quotes.write({ ...q.value, speakerId: "wsh-p-speaker" }, q)],
    });
    // First what it would do: quotes × formats, and each quote left out with why; nothing queued yet.
    const plan = await get("/workspace/campaigns/wsh-camp/queue", staff);
    expect(plan.status).toBe(200);
    const planHtml = await plan.text();
    expect(planHtml).toMatch(/<strong>1<\/strong> quotes × formats \(square\) = <strong>1<\/strong> outputs/);
    expect(planHtml).toMatch(/data-id="wsh-p2">.*<td class="reason">not vetted \(pending\)<\/td>/);
    expect(await h.store.outputs.count(["campaign:wsh-camp"])).toBe(0);
    expect((await get("/workspace/campaigns/wsh-camp/queue", reviewer)).status).toBe(403);
    const queued = await post("/workspace/campaigns/wsh-camp/queue", staff, withCsrf(staff));
    expect(queued.status).toBe(303);
    // Then the progress page, until every output is rendered or failed.
    expect(queued.headers.get("location")).toMatch(/^\/workspace\/campaigns\/wsh-camp\/progress\?n=1&s=\d+$/);
    expect(await h.store.outputs.count(["campaign:wsh-camp"])).toBe(1);
    expect((await post("/workspace/campaigns/wsh-camp/queue", reviewer, withCsrf(reviewer))).status).toBe(
      403,
    );

    // The page's live preview: POST /api/campaigns/preview with the session and its CSRF token.
    const draft = (await h.store.campaigns.get("wsh-camp"))!.value;
    const preview = (campaign: unknown, s: Session = staff) =>
      fetch(`${server.url}/api/campaigns/preview`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          cookie: `tm_session=${s.cookie}`,
          "x-csrf-token": s.csrf,
        },
        body: JSON.stringify({ campaign, quoteId: "wsh-p", format: "square", locale: "en" }),
      });
    const png = await preview(draft);
    expect(png.status).toBe(200);
    expect(png.headers.get("content-type")).toBe("image/png");
    const bytes = Buffer.from(await png.arrayBuffer());
    expect(bytes.subarray(1, 4).toString()).toBe("PNG");
    const white = { ...draft, brand: { ...draft.brand, background: "#ffffff" } };
    const other = Buffer.from(await (await preview(white)).arrayBuffer());
    expect(other.equals(bytes)).toBe(false);
    const refused = await preview({ ...draft, schedule: { cron: "nonsense", timeZone: "UTC" } });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { message: string }).message).toContain("schedule.cron");
    expect((await preview(draft, reviewer)).status).toBe(403);
  });
});

describe("assets", () => {
  it("serves the workspace script, styles and htmx as files, under a CSP that runs no inline code", async () => {
    for (const [file, type] of [
      ["workspace.js", "text/javascript"],
      ["workspace.css", "text/css"],
      ["htmx.min.js", "text/javascript"],
    ] as const) {
      const res = await fetch(`${server.url}/workspace/assets/${file}`);
      expect(res.status, file).toBe(200);
      expect(res.headers.get("content-type")).toContain(type);
    }
    expect(await (await fetch(`${server.url}/workspace/assets/htmx.min.js`)).text()).toContain("htmx");
    expect((await fetch(`${server.url}/workspace/assets/other.js`)).status).toBe(400);
    const page = await get("/workspace/quotes", staff);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(page.headers.get("content-security-policy")).not.toContain("unsafe");
    expect(page.headers.get("cache-control")).toBe("no-store");
  });
});
