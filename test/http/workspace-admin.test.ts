import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addRedaction } from "../../src/app/safety.service.js";
import type { RunningServer } from "../../src/http/server.js";
import { aSpeaker, saveAll } from "../support/builders.js";
import { type Session, siteClient, startSite } from "../support/site.js";
import { type Harness, makeUser } from "./fixtures.js";

/**
 * Workspace pages and API routes for redaction removal, the audited private-field reveal and the
 * admin users page, over a real listening socket: per role, CSRF, escaping, the audit trail.
 */
let h: Harness;
let server: RunningServer;
let staff: Session;
let reviewer: Session;
let admin: Session;
const site = siteClient(() => server.url);
const signIn = (token: string) => site.signIn(token);
const get = (path: string, s?: Session) => site.get(path, s);
const post = (path: string, s: Session | undefined, form: Record<string, string>) => site.post(path, s, form);
const bearer: Record<string, string> = {};

const withCsrf = (s: Session, form: Record<string, string> = {}) => ({ ...form, _csrf: s.csrf });

const api = (method: string, path: string, who: string, body?: unknown) =>
  fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${bearer[who]}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

const PRIVATE = "Realname-Qzx Secret";

beforeAll(async () => {
  ({ h, server } = await startSite("http-workspace-admin"));
  for (const [name, role] of [
    ["wa-staff", "staff"],
    ["wa-rev", "reviewer"],
    ["wa-admin", "admin"],
  ] as const)
    bearer[role] = (await makeUser(h, name, [role])).token;
  staff = await signIn(bearer.staff!);
  reviewer = await signIn(bearer.reviewer!);
  admin = await signIn(bearer.admin!);
  await saveAll(h.store, {
    campaigns: [],
    quotes: [],
    speakers: [
      aSpeaker("wa-speaker", {
        pseudonym: "<b>Abu Esc</b>",
        private: { realName: PRIVATE, contact: "phone <1234>", notes: "met in 2019" },
        redactionTerms: ["Own Term Zz"],
      }),
    ],
  });
});
afterAll(() => h.close(server));

describe("redaction terms: list and remove", () => {
  it("API: staff list, add and remove; reviewers get 403; removal is audited without the term", async () => {
    const added = await api("POST", "/api/redactions", "staff", { term: "Remove Me Qq" });
    expect(added.status).toBe(200);
    const { id } = (await added.json()) as { id: string };
    await addRedaction(h.store, "For Speaker Qq", "test", "wa-speaker");
    const list = await api("GET", "/api/redactions", "staff");
    expect(list.status).toBe(200);
    const items = (
      (await list.json()) as { items: { id: string; term: string; speakerPseudonym?: string }[] }
    ).items;
    // Global first, then per speaker, each with the speaker's pseudonym.
    expect(items.map((t) => [t.term, t.speakerPseudonym])).toEqual([
      ["Remove Me Qq", undefined],
      ["For Speaker Qq", "<b>Abu Esc</b>"],
    ]);

    expect((await api("GET", "/api/redactions", "reviewer")).status).toBe(403);
    expect((await api("DELETE", `/api/redactions/${id}`, "reviewer")).status).toBe(403);
    expect(await h.store.redactions.get(id)).toBeDefined();

    const removed = await api("DELETE", `/api/redactions/${id}`, "staff");
    expect(removed.status).toBe(200);
    expect(await removed.json()).toEqual({ id });
    expect(await h.store.redactions.get(id)).toBeUndefined();
    expect(await h.store.redactions.ids(["global"])).toEqual([]);
    const again = await api("DELETE", `/api/redactions/${id}`, "staff");
    expect(again.status).toBe(404);
    expect(((await again.json()) as { error: string }).error).toBe("not_found");

    const trail = await h.store.audit.list({ entity: id });
    expect(trail.map((a) => [a.action, a.actor, a.detail])).toEqual([
      ["redaction.added", "wa-staff", "global"],
      ["redaction.removed", "wa-staff", "global"],
    ]);
    expect(JSON.stringify(trail)).not.toContain("Remove Me");
  });

  it("workspace: the speakers page lists terms with a Remove… link to a confirmation; the post removes", async () => {
    const { id } = await addRedaction(h.store, "Page <Term> Qq", "test");
    const page = await get("/workspace/speakers", staff);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`href="/workspace/redactions/${id}/remove"`);
    expect(html).toContain("Page &lt;Term&gt; Qq");
    expect(html).not.toContain("<Term>");

    const confirm = await get(`/workspace/redactions/${id}/remove`, staff);
    expect(confirm.status).toBe(200);
    const text = await confirm.text();
    expect(text).toContain("Page &lt;Term&gt; Qq");
    expect(text).toContain(`action="/workspace/redactions/${id}/remove"`);
    expect(await h.store.redactions.get(id)).toBeDefined();

    expect((await get(`/workspace/redactions/${id}/remove`, reviewer)).status).toBe(403);
    const refused = [
      await post(`/workspace/redactions/${id}/remove`, reviewer, withCsrf(reviewer)),
      await post(`/workspace/redactions/${id}/remove`, staff, {}),
      await post(`/workspace/redactions/${id}/remove`, staff, { _csrf: "wrong" }),
    ];
    expect(refused.map((r) => r.status)).toEqual([403, 403, 403]);
    expect(await h.store.redactions.get(id)).toBeDefined();

    const done = await post(`/workspace/redactions/${id}/remove`, staff, withCsrf(staff));
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toBe("/workspace/speakers?done=redaction-removed");
    expect(await h.store.redactions.get(id)).toBeUndefined();
    const after = await (await get("/workspace/speakers?done=redaction-removed", staff)).text();
    expect(after).toContain("Redaction term removed.");
    expect(after).not.toContain("Page &lt;Term&gt; Qq");
    expect((await get("/workspace/redactions/r-0000000000000000/remove", staff)).status).toBe(404);
  });
});

describe("private fields: an audited reveal for admins only", () => {
  it("staff and reviewers never see them and get 403 on the reveal; nothing is audited for them", async () => {
    const page = await (await get("/workspace/speakers", staff)).text();
    expect(page).not.toContain("/reveal");
    expect(page).not.toContain(PRIVATE);
    for (const s of [staff, reviewer]) {
      const r = await post("/workspace/speakers/wa-speaker/reveal", s, withCsrf(s));
      expect(r.status).toBe(403);
      expect(await r.text()).not.toContain(PRIVATE);
    }
    const reads = (await h.store.audit.list({ entity: "wa-speaker" })).filter(
      (a) => a.action === "speaker.private_read",
    );
    expect(reads).toEqual([]);
  });

  it("admins see a reveal button; the POST (with CSRF) audits who, when, which speaker, then shows the fields", async () => {
    const page = await (await get("/workspace/speakers", admin)).text();
    expect(page).toContain('action="/workspace/speakers/wa-speaker/reveal"');
    expect(page).not.toContain(PRIVATE);
    expect((await get("/workspace/speakers/wa-speaker/reveal", admin)).status).toBe(404);
    const noCsrf = await post("/workspace/speakers/wa-speaker/reveal", admin, {});
    expect(noCsrf.status).toBe(403);

    const before = Date.now();
    const r = await post("/workspace/speakers/wa-speaker/reveal", admin, withCsrf(admin));
    expect(r.status).toBe(200);
    expect(r.headers.get("cache-control")).toBe("no-store");
    const html = await r.text();
    expect(html).toContain(PRIVATE);
    expect(html).toContain("phone &lt;1234&gt;");
    expect(html).toContain("Own Term Zz");
    expect(html).toContain("&lt;b&gt;Abu Esc&lt;/b&gt;");
    const reads = (await h.store.audit.list({ entity: "wa-speaker" })).filter(
      (a) => a.action === "speaker.private_read",
    );
    expect(reads).toHaveLength(1);
    expect(reads[0]!.actor).toBe("wa-admin");
    expect(Date.parse(reads[0]!.at)).toBeGreaterThanOrEqual(before - 1000);
    expect(JSON.stringify(reads)).not.toContain(PRIVATE);
    expect((await post("/workspace/speakers/nobody/reveal", admin, withCsrf(admin))).status).toBe(404);
  });
});

describe("users page: admins only, the same use cases as `testimony users`", () => {
  it("staff and reviewers get 403 on the page and every form; strangers are sent to sign in", async () => {
    expect((await get("/workspace/users")).status).toBe(303);
    for (const s of [staff, reviewer]) {
      expect((await get("/workspace/users", s)).status).toBe(403);
      expect((await get("/workspace/users/wa-staff/revoke", s)).status).toBe(403);
      const refused = [
        await post("/workspace/users", s, withCsrf(s, { name: "sneaky", roles: "admin" })),
        await post("/workspace/users/wa-staff/token", s, withCsrf(s)),
        await post("/workspace/users/wa-admin/revoke", s, withCsrf(s)),
      ];
      expect(refused.map((r) => r.status)).toEqual([403, 403, 403]);
    }
    expect(await h.store.users.get("sneaky")).toBeUndefined();
    expect((await h.store.users.get("wa-admin"))!.value.revokedAt).toBeUndefined();
    expect((await get("/workspace/speakers", staff)).status).toBe(200);
  });

  it("lists users with roles; adds one and shows its token once; the token works; field errors shown", async () => {
    const page = await get("/workspace/users", admin);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toMatch(/<th scope="row">wa-staff<\/th>\s*<td>staff<\/td>/);
    expect(html).toContain('href="/workspace/users"');
    expect(html).not.toContain("tokenHash");
    expect((await post("/workspace/users", admin, { name: "x1", roles: "staff" })).status).toBe(403);

    const added = await post(
      "/workspace/users",
      admin,
      withCsrf(admin, { name: "New-Person", roles: "reviewer" }),
    );
    expect(added.status).toBe(200);
    expect(added.headers.get("cache-control")).toBe("no-store");
    const token = /id="token" class="token" readonly value="(tm_[^"]+)"/.exec(await added.text())![1]!;
    expect((await h.store.users.get("new-person"))!.value.roles).toEqual(["reviewer"]);
    const me = await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await me.json()) as { id: string }).id).toBe("new-person");
    // Shown once: the list never shows it again.
    expect(await (await get("/workspace/users", admin)).text()).not.toContain(token);

    const noRole = await post("/workspace/users", admin, withCsrf(admin, { name: "norole" }));
    expect(noRole.status).toBe(400);
    expect(await noRole.text()).toContain("choose at least one role");
    const bad = await post(
      "/workspace/users",
      admin,
      withCsrf(admin, { name: "<b>x y</b>", roles: "staff" }),
    );
    expect(bad.status).toBe(400);
    const badHtml = await bad.text();
    expect(badHtml).toContain('aria-invalid="true"');
    expect(badHtml).toContain('value="&lt;b&gt;x y&lt;/b&gt;"');
    expect(badHtml).not.toContain("<b>x y</b>");
    const dup = await post(
      "/workspace/users",
      admin,
      withCsrf(admin, { name: "new-person", roles: "staff" }),
    );
    expect(dup.status).toBe(409);
    expect(await dup.text()).toContain("exists already");
    const audit = await h.store.audit.list({ entity: "new-person" });
    expect(audit.map((a) => [a.action, a.actor, a.to])).toEqual([["user.added", "wa-admin", "reviewer"]]);
  });

  it("issues a new token (the old one stops working) and revokes after a confirmation", async () => {
    const { token: old } = await makeUser(h, "wa-rotate", ["staff"]);
    const issued = await post("/workspace/users/wa-rotate/token", admin, withCsrf(admin));
    expect(issued.status).toBe(200);
    const fresh = /id="token" class="token" readonly value="(tm_[^"]+)"/.exec(await issued.text())![1]!;
    const me = (t: string) => fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${t}` } });
    expect((await me(old)).status).toBe(401);
    expect((await me(fresh)).status).toBe(200);

    const victim = await signIn(fresh);
    const confirm = await get("/workspace/users/wa-rotate/revoke", admin);
    expect(confirm.status).toBe(200);
    expect(await confirm.text()).toContain('action="/workspace/users/wa-rotate/revoke"');
    expect((await h.store.users.get("wa-rotate"))!.value.revokedAt).toBeUndefined();
    expect((await post("/workspace/users/wa-rotate/revoke", admin, {})).status).toBe(403);
    const done = await post("/workspace/users/wa-rotate/revoke", admin, withCsrf(admin));
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toBe("/workspace/users?done=revoked&user=wa-rotate");
    expect((await h.store.users.get("wa-rotate"))!.value.revokedAt).toBeDefined();
    expect((await me(fresh)).status).toBe(401);
    expect((await get("/workspace/speakers", victim)).status).not.toBe(200);
    const list = await (await get("/workspace/users?done=revoked&user=wa-rotate", admin)).text();
    expect(list).toContain("wa-rotate: revoked");
    expect((await post("/workspace/users/nobody/token", admin, withCsrf(admin))).status).toBe(404);
    expect((await post("/workspace/users/wa-rotate/token", admin, withCsrf(admin))).status).toBe(409);
  });
});

describe("logo upload for the campaign form", () => {
  const upload = (s: Session, logo: string, csrf = s.csrf) =>
    fetch(`${server.url}/workspace/campaigns/logo`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: `tm_session=${s.cookie}`, "x-csrf-token": csrf },
      body: JSON.stringify({ logo }),
    });

  it("stores a PNG through the brand service and answers its blob: reference; the form saves it", async () => {
    const png = await sharp({
      create: { width: 64, height: 32, channels: 4, background: { r: 200, g: 30, b: 30, alpha: 1 } },
    })
      .png()
      .toBuffer();
    const dataUrl = `data:image/png;base64,${png.toString("base64")}`;
    expect((await upload(reviewer, dataUrl)).status).toBe(403);
    expect((await upload(staff, dataUrl, "wrong")).status).toBe(403);
    const gif = await upload(staff, `data:image/gif;base64,${png.toString("base64")}`);
    expect(gif.status).toBe(400);
    expect(((await gif.json()) as { message: string }).message).toContain("PNG or SVG");
    const big = await upload(staff, `data:image/png;base64,${Buffer.alloc(2_100_000, 1).toString("base64")}`);
    expect(big.status).toBe(400);
    const broken = await upload(
      staff,
      `data:image/png;base64,${Buffer.from("not a png").toString("base64")}`,
    );
    expect(broken.status).toBe(400);

    const ok = await upload(staff, dataUrl);
    expect(ok.status).toBe(200);
    const { logo } = (await ok.json()) as { logo: string };
    expect(logo).toMatch(/^blob:[0-9a-f]{64}$/);

    const form = new URLSearchParams({
      _csrf: staff.csrf,
      id: "wa-logo-camp",
      name: "With a logo",
      region: "Iraq",
      locales: "en",
      background: "#0f1f2e",
      backgroundTo: "#1d3b53",
      text: "#f5f1e8",
      accent: "#e0a526",
      hashtags: "",
      cron: "0 9 * * 1",
      timeZone: "Asia/Baghdad",
      maxPerDrop: "3",
      encoding: "png",
      narratives: "brutality",
      formats: "square",
      textVariants: "post",
      logo,
    });
    const saved = await fetch(`${server.url}/workspace/campaigns`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: `tm_session=${staff.cookie}` },
      body: form.toString(),
    });
    expect(saved.status).toBe(303);
    expect((await h.store.campaigns.get("wa-logo-camp"))!.value.brand.logo).toBe(logo);
    const page = await (await get("/workspace/campaigns/wa-logo-camp/edit", staff)).text();
    expect(page).toContain("logo stays unless you choose another file.");
    expect(page).toContain('id="f-logo-file"');
  });
});
