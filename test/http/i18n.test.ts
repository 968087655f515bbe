import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/http/server.js";
import { cookieOf, type Session, siteClient, startSite } from "../support/site.js";
import { type Harness, makeOutput, makeUser } from "./fixtures.js";

/** The pages' language over a real listening socket: Accept-Language, the switcher, its CSRF check. */
let h: Harness;
let server: RunningServer;
let reviewerToken: string;
let staffToken: string;
const site = siteClient(() => server.url);
const signIn = (token: string, lang?: string) => site.signIn(token, { lang });
const get = (path: string, s?: Session, lang?: string) =>
  site.get(path, s, lang ? { "accept-language": lang } : {});

const choose = (s: Session, form: Record<string, string>) =>
  fetch(`${server.url}/review/language`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: `tm_session=${s.cookie}` },
    body: new URLSearchParams(form).toString(),
  });

const htmlTag = (html: string) => /<html[^>]*>/.exec(html)![0];

beforeAll(async () => {
  ({ h, server } = await startSite("http-i18n"));
  reviewerToken = (await makeUser(h, "rev1", ["reviewer"])).token;
  staffToken = (await makeUser(h, "staff1", ["staff"])).token;
  await makeOutput(h, { campaignId: "why-they-left" });
});
afterAll(() => h.close(server));

describe("the pages' language", () => {
  it("follows Accept-Language before anyone chooses: Arabic right to left, else English", async () => {
    const login = await (await get("/review/login", undefined, "ar-EG,ar;q=0.9,en;q=0.5")).text();
    expect(htmlTag(login)).toBe('<html lang="ar" dir="rtl">');
    expect(login).toContain("تسجيل الدخول");
    const english = await (await get("/review/login", undefined, "fr-FR, de;q=0.8")).text();
    expect(htmlTag(english)).toBe('<html lang="en" dir="ltr">');
    expect(english).toContain("Sign in to review");

    const s = await signIn(reviewerToken);
    const review = await (await get("/review", s, "ar")).text();
    expect(htmlTag(review)).toBe('<html lang="ar" dir="rtl">');
    for (const label of ["الحملة", "تحديد الكل", "موافقة", "رفض", "قيد المراجعة", "المراجعة"])
      expect(review).toContain(label);
    expect(review).not.toContain(">Approve <kbd>");
    // A wrong token's message is in the browser's language too.
    const form = await fetch(`${server.url}/review/login`, { headers: { "accept-language": "ar" } });
    const bad = await fetch(`${server.url}/review/login`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "accept-language": "ar",
        cookie: `tm_login=${cookieOf(form, "tm_login")}`,
      },
      body: new URLSearchParams({
        token: "tm_nope_nope",
        _csrf: /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!,
      }).toString(),
    });
    expect(bad.status).toBe(401);
    expect(await bad.text()).toContain("هذا الرمز غير صالح");
  });

  it("the switcher needs the session's CSRF token, keeps the choice, and the next sign-in starts in it", async () => {
    const s = await signIn(staffToken);
    const before = await (await get("/workspace/quotes", s, "en")).text();
    expect(htmlTag(before)).toBe('<html lang="en" dir="ltr">');
    expect(before).toContain('action="/review/language"');
    expect(before).toMatch(/name="lang" value="ar" lang="ar" dir="rtl">العربية</);

    const noToken = await choose(s, { lang: "ar", next: "/workspace/quotes" });
    expect(noToken.status).toBe(403);
    const wrongToken = await choose(s, { lang: "ar", _csrf: "x".repeat(43) });
    expect(wrongToken.status).toBe(403);
    const crossSite = await fetch(`${server.url}/review/language`, {
      method: "POST",
      redirect: "manual",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        cookie: `tm_session=${s.cookie}`,
        origin: "https://evil.example",
      },
      body: new URLSearchParams({ lang: "ar", _csrf: s.csrf }).toString(),
    });
    expect(crossSite.status).toBe(403);
    expect(htmlTag(await (await get("/review", s, "en")).text())).toContain('lang="en"');

    const unknown = await choose(s, { lang: "xx", _csrf: s.csrf });
    expect(unknown.status).toBe(400);
    const offsite = await choose(s, { lang: "ar", _csrf: s.csrf, next: "https://evil.example/" });
    expect(offsite.status).toBe(303);
    expect(offsite.headers.get("location")).toBe("/review");

    const ok = await choose(s, { lang: "ar", _csrf: s.csrf, next: "/workspace/quotes?state=pending" });
    expect(ok.status).toBe(303);
    expect(ok.headers.get("location")).toBe("/workspace/quotes?state=pending");
    // The choice beats the browser's English.
    const after = await (await get("/workspace/quotes", s, "en")).text();
    expect(htmlTag(after)).toBe('<html lang="ar" dir="rtl">');
    expect(after).toContain("الاقتباسات");
    expect(after).toContain("تسجيل الخروج");
    expect(after).toMatch(/name="lang" value="en" lang="en" dir="ltr">English</);

    // Signed out and in again, with an English browser: still Arabic. Another user is not affected.
    const again = await signIn(staffToken, "en");
    expect(htmlTag(await (await get("/review", again, "en")).text())).toBe('<html lang="ar" dir="rtl">');
    const other = await signIn(reviewerToken);
    expect(htmlTag(await (await get("/review", other, "en")).text())).toBe('<html lang="en" dir="ltr">');

    // And back to English.
    expect((await choose(again, { lang: "en", _csrf: again.csrf })).status).toBe(303);
    expect(htmlTag(await (await get("/review", again, "ar")).text())).toBe('<html lang="en" dir="ltr">');
  });

  it("strangers cannot choose: the switcher needs a session", async () => {
    const res = await fetch(`${server.url}/review/language`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ lang: "ar" }).toString(),
    });
    expect(res.status).toBe(401);
  });
});
