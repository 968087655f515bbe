import { createHash } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { revokeUser } from "../../src/app/users.service.js";

import { buildApp, type Harness, harness, makeOutput, makeUser, signIn } from "./fixtures.js";

let h: Harness;
let app: FastifyInstance;
let reviewer: Awaited<ReturnType<typeof makeUser>>;
let staff: Awaited<ReturnType<typeof makeUser>>;

beforeAll(async () => {
  h = await harness("http-review");
  app = buildApp(h.deps);
  await app.ready();
  reviewer = await makeUser(h, "rev1", ["reviewer"]);
  staff = await makeUser(h, "staff1", ["staff"]);
});
afterAll(() => h.close(app));

const sessionKey = (id: string) =>
  h.store.keys.misc(`session:${createHash("sha256").update(id).digest("hex")}`);

describe("sign-in and sessions", () => {
  it("sends strangers to the login form and refuses a bad token or a stale form", async () => {
    const page = await app.inject({ url: "/review?locale=ar", headers: { accept: "text/html" } });
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe("/review/login?next=%2Freview%3Flocale%3Dar");
    const form = await app.inject({ url: "/review/login" });
    expect(form.body).toContain('type="password"');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)![1]!;
    const post = (cookies: Record<string, string>, token: string) =>
      app.inject({
        method: "POST",
        url: "/review/login",
        cookies,
        headers: { "content-type": "application/x-www-form-urlencoded" },
        payload: new URLSearchParams({ token, _csrf: csrf }).toString(),
      });
    const loginCookie = form.cookies.find((c) => c.name === "tm_login")!.value;
    expect((await post({}, reviewer.token)).statusCode).toBe(403);
    const bad = await post({ tm_login: loginCookie }, "tm_AAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB");
    expect(bad.statusCode).toBe(401);
    expect(bad.body).toContain("That token is not valid");
  });

  it("sets an httpOnly, SameSite=Strict session cookie kept in Redis with a TTL; logout ends it", async () => {
    const s = await signIn(app, reviewer.token);
    const header = String([s.setCookie].flat().find((c) => String(c).startsWith("tm_session=")));
    expect(header).toMatch(/HttpOnly/);
    expect(header).toMatch(/SameSite=Strict/);
    expect(header).toMatch(/Path=\//);
    expect(await h.redis.ttl(sessionKey(s.cookie))).toBeGreaterThan(3600);
    const out = await app.inject({
      method: "POST",
      url: "/review/logout",
      cookies: { tm_session: s.cookie },
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: `_csrf=${s.csrf}`,
    });
    expect(out.statusCode).toBe(303);
    expect(await h.redis.exists(sessionKey(s.cookie))).toBe(0);
    expect((await app.inject({ url: "/review", cookies: { tm_session: s.cookie } })).statusCode).toBe(303);
  });

  it("a revoked user's session stops working at once", async () => {
    const temp = await makeUser(h, "temp-rev", ["reviewer"]);
    const s = await signIn(app, temp.token);
    await revokeUser(h.store, "temp-rev", "test");
    expect((await app.inject({ url: "/review", cookies: { tm_session: s.cookie } })).statusCode).toBe(303);
  });
});

describe("the review page", () => {
  it("escapes everything it shows, marks Arabic right to left, and filters", async () => {
    const evil = await makeOutput(h, {
      published: {
        quoteText: "<script>alert(1)</script>",
        attribution: '<img src=x onerror="alert(2)">',
        citation: "A & B",
      },
      missedDrops: ["2026-01-05T09:00"],
    });
    const ar = await makeOutput(h, {
      locale: "ar",
      direction: "rtl",
      published: { quoteText: "الدولة لا تحمي المسلمين", attribution: "مقاتل سابق", citation: "ICSR" },
    });
    const s = await signIn(app, reviewer.token);
    const page = await app.inject({ url: "/review", cookies: { tm_session: s.cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-security-policy"]).toContain("script-src 'self'");
    expect(page.body).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(page.body).not.toContain("<script>alert(1)</script>");
    expect(page.body).not.toContain("<img src=x");
    expect(page.body).toContain("A &amp; B");
    expect(page.body).toContain("2026-01-05T09:00");
    const arCard = page.body.slice(page.body.indexOf(`data-id="${ar.id}"`));
    expect(arCard.slice(0, 2000)).toMatch(
      /<blockquote dir="rtl" lang="ar">الدولة لا تحمي المسلمين<\/blockquote>/,
    );
    const onlyAr = await app.inject({ url: "/review?locale=ar", cookies: { tm_session: s.cookie } });
    expect(onlyAr.body).toContain(`data-id="${ar.id}"`);
    expect(onlyAr.body).not.toContain(`data-id="${evil.id}"`);
    const card = await app.inject({ url: `/review/cards/${ar.id}`, cookies: { tm_session: s.cookie } });
    expect(card.headers["content-type"]).toBe("image/png");
    expect((await app.inject({ url: `/review/cards/${ar.id}` })).statusCode).toBe(401);
  });

  it("staff can look but get no decision buttons; their own work says four eyes", async () => {
    await makeOutput(h, { queuedBy: "staff1" });
    const s = await signIn(app, staff.token);
    const page = await app.inject({ url: "/review", cookies: { tm_session: s.cookie } });
    expect(page.body).not.toContain('data-action="approve"');
    expect(page.body).toContain("only reviewers can approve or reject");
  });
});

describe("decisions from the page", () => {
  it("needs the CSRF token and a same-origin request", async () => {
    const o = await makeOutput(h);
    const s = await signIn(app, reviewer.token);
    const url = `/review/outputs/${o.id}/approve`;
    const cookies = { tm_session: s.cookie };
    const noToken = await app.inject({ method: "POST", url, cookies, payload: {} });
    expect(noToken.statusCode).toBe(403);
    expect(noToken.json().message).toContain("CSRF");
    const foreign = await app.inject({
      method: "POST",
      url,
      cookies,
      payload: {},
      headers: { "x-csrf-token": s.csrf, origin: "https://evil.example" },
    });
    expect(foreign.statusCode).toBe(403);
    expect((await h.store.outputs.get(o.id))?.value.status).toBe("in_review");
    const ok = await app.inject({
      method: "POST",
      url,
      cookies,
      payload: {},
      headers: { "x-csrf-token": s.csrf, origin: "http://localhost:80" },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ id: o.id, status: "approved" });
  });

  it("rejects with a comment, and bulk-approves from the plain form", async () => {
    const [r, b1, b2] = [await makeOutput(h), await makeOutput(h), await makeOutput(h)];
    const s = await signIn(app, reviewer.token);
    const cookies = { tm_session: s.cookie };
    const headers = { "x-csrf-token": s.csrf };
    const noComment = await app.inject({
      method: "POST",
      url: `/review/outputs/${r.id}/reject`,
      cookies,
      headers,
      payload: { comment: " " },
    });
    expect(noComment.statusCode).toBe(400);
    const rejected = await app.inject({
      method: "POST",
      url: `/review/outputs/${r.id}/reject`,
      cookies,
      headers,
      payload: { comment: "Wrong narrative" },
    });
    expect(rejected.json()).toEqual({ id: r.id, status: "rejected" });
    const form = new URLSearchParams([
      ["_csrf", s.csrf],
      ["ids", b1.id],
      ["ids", b2.id],
      ["ids", r.id],
    ]);
    const bulk = await app.inject({
      method: "POST",
      url: "/review/outputs/bulk-approve",
      cookies,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: form.toString(),
    });
    expect(bulk.statusCode).toBe(303);
    expect(bulk.headers.location).toBe("/review?approved=2&failed=1");
    const statuses = (await h.store.outputs.getMany([r.id, b1.id, b2.id])).map((v) => v.value.status);
    expect(statuses).toEqual(["rejected", "approved", "approved"]);
    const audit = await h.store.audit.list({ entity: r.id });
    expect(audit.at(-1)).toMatchObject({
      actor: "rev1",
      action: "output.rejected",
      detail: "Wrong narrative",
    });
  });
});
