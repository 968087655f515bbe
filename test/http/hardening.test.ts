import type { FastifyInstance, RouteOptions } from "fastify";
import type { Browser } from "playwright-core";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { RouteConfig } from "../../src/http/access.js";
import type { WebOptions } from "../../src/http/deps.js";
import { ALWAYS, DASHBOARD_CSP, NOTHING_CSP } from "../../src/http/security-headers.js";
import { type RunningServer, startServer } from "../../src/http/server.js";
import { TOKEN_LIMITS } from "../../src/http/token-throttle.js";
import { haveChromium, launchChromium } from "../support/browser.js";
import { type Harness, harness, makeOutput, makeUser, signIn } from "./fixtures.js";

/**
 * The web surface's guarantees, against a real listening server (fetch over TCP, so the client
 * address, cookies and headers are what a browser or a script would see). Each test gets its own
 * key prefix, so rate-limit counters never leak from one test to the next.
 */

type Site = { h: Harness; server: RunningServer; url: string; app: FastifyInstance };
type Route = { method: string; url: string; readonly config: RouteConfig };
const open: Site[] = [];

async function site(name: string, web: WebOptions = {}): Promise<Site> {
  const h = await harness(`hardening-${name}`);
  const server = await startServer({ ...h.deps, web, host: "127.0.0.1", port: 0 });
  const s = { h, server, url: server.url, app: server.app };
  open.push(s);
  return s;
}
afterEach(async () => {
  for (const s of open.splice(0)) await s.h.close(s.server.app);
});

const bad = (i: number) => `tm_${String(i).padStart(12, "x")}.${"y".repeat(32)}`;
const get = (s: Site, path: string, headers: Record<string, string> = {}) =>
  fetch(`${s.url}${path}`, { headers, redirect: "manual" });

/** The sign-in form as a browser gets it: its cookie nonce and the signed token in the page. */
async function loginForm(s: Site) {
  const res = await get(s, "/review/login");
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith("tm_login="))!;
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await res.text())![1]!;
  return { nonce: cookie.split(";")[0]!.slice("tm_login=".length), csrf, setCookie: cookie };
}

function postLogin(s: Site, form: { nonce: string; csrf: string }, token: string, headers = {}) {
  return fetch(`${s.url}/review/login`, {
    method: "POST",
    redirect: "manual",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      cookie: `tm_login=${form.nonce}`,
      ...headers,
    },
    body: new URLSearchParams({ token, _csrf: form.csrf, next: "/review" }).toString(),
  });
}

describe("rate limits on token checks", () => {
  it(`per client: after ${TOKEN_LIMITS.perClient} wrong API tokens, 429 with Retry-After, even for a right token`, async () => {
    const s = await site("client");
    const staff = await makeUser(s.h, "staff1", ["staff"]);
    for (let i = 0; i < TOKEN_LIMITS.perClient; i++) {
      const res = await get(s, "/api/quotes", { authorization: `Bearer ${bad(i)}` });
      expect(res.status, `attempt ${i + 1}`).toBe(401);
    }
    const over = await get(s, "/api/quotes", { authorization: `Bearer ${bad(999)}` });
    expect(over.status).toBe(429);
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await over.json()).toMatchObject({ error: "rate_limited" });
    // While the limit holds a right guess would tell nothing: it is refused too.
    const right = await get(s, "/api/quotes", staff.auth);
    expect(right.status).toBe(429);
    // A request without any token is no token check: still a plain 401.
    expect((await get(s, "/api/quotes")).status).toBe(401);
    // The counters live in the project's Redis, under its prefix.
    expect(await s.h.redis.exists(`{${s.h.prefix}}:ratelimit:ip:127.0.0.1`)).toBe(1);
  });

  it(`per token prefix: after ${TOKEN_LIMITS.perTokenPrefix} wrong secrets for one account, that prefix gets 429`, async () => {
    const s = await site("prefix");
    const staff = await makeUser(s.h, "staff1", ["staff"]);
    const prefix = staff.token.slice(0, staff.token.indexOf(".") + 1);
    for (let i = 0; i < TOKEN_LIMITS.perTokenPrefix; i++) {
      const res = await get(s, "/api/quotes", {
        authorization: `Bearer ${prefix}${"z".repeat(31)}${i % 10}`,
      });
      expect(res.status).toBe(401);
    }
    const right = await get(s, "/api/quotes", staff.auth);
    expect(right.status).toBe(429);
    expect((await right.json()).message).toMatch(/too many wrong tokens for this token/);
    // Another account's token from the same client is unaffected (the client is under its limit).
    const other = await makeUser(s.h, "staff2", ["staff"]);
    expect((await get(s, "/api/quotes", other.auth)).status).toBe(200);
  });

  it("a good token is never slowed down, however busy", async () => {
    const s = await site("busy");
    const staff = await makeUser(s.h, "staff1", ["staff"]);
    const statuses = await Promise.all(
      Array.from({ length: 3 * TOKEN_LIMITS.perClient }, () =>
        get(s, "/api/quotes", staff.auth).then((r) => r.status),
      ),
    );
    expect(new Set(statuses)).toEqual(new Set([200]));
  });

  it(`sign-in: after ${TOKEN_LIMITS.perClient} wrong tokens the form answers 429 with Retry-After`, async () => {
    const s = await site("signin");
    const reviewer = await makeUser(s.h, "rev1", ["reviewer"]);
    for (let i = 0; i < TOKEN_LIMITS.perClient; i++) {
      const res = await postLogin(s, await loginForm(s), bad(i));
      expect(res.status).toBe(401);
    }
    const res = await postLogin(s, await loginForm(s), reviewer.token);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await res.text()).toContain("Too many wrong tokens: try again in");
    expect(res.headers.getSetCookie().some((c) => c.startsWith("tm_session="))).toBe(false);
  });
});

describe("sign-in form: login CSRF", () => {
  it("accepts only a token we signed for this browser's nonce, from our own origin", async () => {
    const s = await site("login-csrf");
    const reviewer = await makeUser(s.h, "rev1", ["reviewer"]);
    const form = await loginForm(s);
    // The old double-submit cookie accepted any equal pair; an attacker can plant a cookie.
    const planted = await postLogin(s, { nonce: "attacker-chosen", csrf: "attacker-chosen" }, reviewer.token);
    expect(planted.status).toBe(403);
    expect(await planted.text()).toContain("The form expired");
    // A real token from another browser's form (the attacker's own) does not fit this nonce.
    const other = await loginForm(s);
    expect((await postLogin(s, { nonce: form.nonce, csrf: other.csrf }, reviewer.token)).status).toBe(403);
    // A forged signature, or an expired one.
    const [issued] = form.csrf.split(".");
    expect(
      (await postLogin(s, { ...form, csrf: `${issued}.${"A".repeat(43)}` }, reviewer.token)).status,
    ).toBe(403);
    expect(
      (await postLogin(s, { ...form, csrf: `1000.${form.csrf.split(".")[1]}` }, reviewer.token)).status,
    ).toBe(403);
    // Cross-site: refused before the token is looked at.
    const cross = await postLogin(s, form, reviewer.token, { origin: "https://evil.example" });
    expect(cross.status).toBe(403);
    const fetchSite = await postLogin(s, form, reviewer.token, { "sec-fetch-site": "cross-site" });
    expect(fetchSite.status).toBe(403);
    // The genuine form signs in.
    const ok = await postLogin(s, form, reviewer.token, { origin: s.url });
    expect(ok.status).toBe(303);
    expect(ok.headers.getSetCookie().some((c) => c.startsWith("tm_session="))).toBe(true);
  });

  it("the public sign-in form takes at most 8 KiB", async () => {
    const s = await site("login-size");
    const form = await loginForm(s);
    const res = await postLogin(s, form, "t".repeat(9 * 1024));
    expect(res.status).toBe(413);
    const small = await postLogin(s, form, "t".repeat(100));
    expect(small.status).toBe(401);
  });
});

describe("cookies", () => {
  it("are Secure behind an https PUBLIC_URL, and httpOnly SameSite=Strict always", async () => {
    const s = await site("secure", { publicUrl: "https://review.example.org" });
    const reviewer = await makeUser(s.h, "rev1", ["reviewer"]);
    const form = await loginForm(s);
    expect(form.setCookie).toMatch(/; Secure/);
    const res = await postLogin(s, form, reviewer.token);
    const session = res.headers.getSetCookie().find((c) => c.startsWith("tm_session="))!;
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; SameSite=Strict/);
    expect(session).toMatch(/; Secure/);
  });

  it("over plain http (no https PUBLIC_URL) they stay usable on http", async () => {
    const s = await site("insecure", { publicUrl: "http://127.0.0.1:8080" });
    expect((await loginForm(s)).setCookie).not.toMatch(/; Secure/);
  });
});

describe("/metrics", () => {
  it("with METRICS_TOKEN: only with that bearer token", async () => {
    const token = "m".repeat(32);
    const s = await site("metrics", { metricsToken: token });
    expect((await get(s, "/metrics")).status).toBe(401);
    expect((await get(s, "/metrics", { authorization: `Bearer ${"n".repeat(32)}` })).status).toBe(401);
    const ok = await get(s, "/metrics", { authorization: `Bearer ${token}` });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("cache-control")).toBe("no-store");
    expect(await ok.text()).toMatch(/^testimony_outputs\{state="in_review"\} 0$/m);
  });

  it("without METRICS_TOKEN: loopback clients only", async () => {
    const s = await site("metrics-loopback");
    expect((await get(s, "/metrics")).status).toBe(200);
    const remote = await s.app.inject({ url: "/metrics", remoteAddress: "203.0.113.7" });
    expect(remote.statusCode).toBe(403);
    expect(remote.json().message).toContain("METRICS_TOKEN");
  });
});

describe("headers on every route", () => {
  it("each route, with and without credentials, answers with the security headers; private ones with no-store", async () => {
    const h = await harness("hardening-routes");
    const routes: Route[] = [];
    const server = await (async () => {
      const { buildApp } = await import("../../src/http/app.js");
      const app = buildApp(h.deps);
      app.addHook("onRoute", (r: RouteOptions) => {
        for (const method of [r.method].flat())
          if (method !== "HEAD")
            routes.push({
              method,
              url: r.url,
              get config() {
                return (r.config ?? {}) as RouteConfig;
              },
            });
      });
      await app.listen({ host: "127.0.0.1", port: 0 });
      return app;
    })();
    try {
      const admin = await makeUser(h, "admin1", ["admin"]);
      const reviewer = await makeUser(h, "rev1", ["reviewer"]);
      const output = await makeOutput(h);
      const session = await signIn(server, reviewer.token);
      const fill = (url: string) =>
        url
          .replace(":id", output.id)
          .replace(":variant", "post")
          .replace(":file", "review.css")
          .replace(/:([A-Za-z]+)/g, "x-$1")
          .replace(/\*$/, "");
      expect(routes.length).toBeGreaterThan(50);
      const checked: string[] = [];
      for (const r of routes) {
        const url = fill(r.url);
        const tries: [string, Record<string, string>][] = [["anonymous", {}]];
        const access = r.config.access;
        if (access?.auth === "bearer" || access?.auth === "admin") tries.push(["admin", admin.auth]);
        if (access?.auth === "session") tries.push(["session", { cookie: `tm_session=${session.cookie}` }]);
        for (const [who, headers] of tries) {
          const res = await server.inject({
            method: r.method as "GET",
            url,
            headers,
            payload: r.method === "GET" ? undefined : {},
          });
          const label = `${r.method} ${r.url} ${who} → ${res.statusCode}`;
          for (const [name, value] of Object.entries(ALWAYS)) expect(res.headers[name], label).toBe(value);
          expect(res.headers["content-security-policy"], label).toMatch(
            /default-src 'none'.*frame-ancestors 'none'/,
          );
          if (String(res.headers["content-type"]).startsWith("text/html") && url.startsWith("/admin/"))
            expect(res.headers["content-security-policy"], label).toBe(DASHBOARD_CSP);
          if (!String(res.headers["content-type"]).startsWith("text/html"))
            expect(res.headers["content-security-policy"], label).toBe(NOTHING_CSP);
          if (access?.auth !== "public" || url.startsWith("/api/"))
            expect(res.headers["cache-control"], label).toBe("no-store");
          checked.push(label);
        }
      }
      expect(checked.some((l) => /^GET \/api\/speakers\/:id\/private admin/.test(l))).toBe(true);
      expect(checked.filter((l) => l.includes("/admin/queues")).join("\n")).toMatch(
        /^GET \/admin\/queues.* → 200$/m,
      );
      expect(checked).toContain("GET /review session → 200");
    } finally {
      await h.close(server);
    }
  });
});

describe.skipIf(!haveChromium)("the queue dashboard under its CSP", () => {
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
  });

  it("renders in Chromium with no CSP violation and no script error, and cannot be framed", async () => {
    const s = await site("dashboard");
    const admin = await makeUser(s.h, "admin1", ["admin"]);
    browser = await launchChromium();
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("console", (m) => {
      // Two expected refusals: the browser's own /favicon.ico guess, and bull-board's Google web font,
      // which the policy keeps out on purpose. Anything else (a blocked script or style) is a failure.
      const text = `${m.text()} ${m.location().url}`;
      if (m.type() === "error" && !/\/favicon\.ico$|'https:\/\/fonts\.googleapis\.com\//.test(text))
        problems.push(text);
    });
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("response", (r) => {
      if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(`${s.url}/review/login`);
    await page.fill("#token", admin.token);
    await Promise.all([page.waitForURL(`${s.url}/review`), page.click("button[type=submit]")]);
    const res = await page.goto(`${s.url}/admin/queues`);
    expect(res?.headers()["content-security-policy"]).toBe(DASHBOARD_CSP);
    expect(res?.headers()["x-frame-options"]).toBe("DENY");
    // bull-board lists the project's queues once its scripts have run.
    await page.getByText("render", { exact: false }).first().waitFor({ timeout: 20_000 });
    await expect.poll(() => page.locator("#root").innerText()).toMatch(/export/i);
    expect(problems).toEqual([]);
  });
});
