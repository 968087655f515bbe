import { type RunningServer, startServer } from "../../src/http/server.js";
import { type Harness, harness } from "../http/fixtures.js";

/** A signed-in browser session as the pages see it: the session cookie and the page's CSRF token. */
export type Session = { cookie: string; csrf: string };

/** The value a response's Set-Cookie gives `name`, if any. */
export function cookieOf(res: Response, name: string): string | undefined {
  for (const c of res.headers.getSetCookie()) {
    const m = new RegExp(`^${name}=([^;]*)`).exec(c);
    if (m) return m[1];
  }
  return undefined;
}

/** The app on a real listening socket over a fresh harness (store prefix, queues, temp DATA_DIR). */
export async function startSite(name: string): Promise<{ h: Harness; server: RunningServer }> {
  const h = await harness(name);
  const server = await startServer({ ...h.deps, host: "127.0.0.1", port: 0 });
  return { h, server };
}

/**
 * fetch() against the site at base() like a browser: sign in through the login form, GET as HTML and
 * POST url-encoded forms with the session cookie (and its CSRF token when asked). Redirects are not followed.
 */
export function siteClient(base: () => string) {
  /** Signs in through the login form; `lang` is the login page's Accept-Language, `next` the form's. */
  async function signIn(
    token: string,
    opts: { next?: string; lang?: string } = {},
  ): Promise<Session & { location: string }> {
    const langHeader: Record<string, string> = opts.lang ? { "accept-language": opts.lang } : {};
    const form = await fetch(`${base()}/review/login`, { headers: langHeader });
    const loginCookie = cookieOf(form, "tm_login")!;
    const loginCsrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
    const res = await fetch(`${base()}/review/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: `tm_login=${loginCookie}` },
      body: new URLSearchParams({ token, _csrf: loginCsrf, next: opts.next ?? "/review" }).toString(),
    });
    const cookie = cookieOf(res, "tm_session");
    if (res.status !== 303 || !cookie) throw new Error(`sign-in failed: ${res.status}`);
    const page = await fetch(`${base()}/review`, { headers: { cookie: `tm_session=${cookie}` } });
    const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(await page.text())![1]!;
    return { cookie, csrf, location: res.headers.get("location") ?? "" };
  }

  const get = (path: string, s?: Session, headers: Record<string, string> = {}) =>
    fetch(`${base()}${path}`, {
      redirect: "manual",
      headers: { accept: "text/html", ...(s ? { cookie: `tm_session=${s.cookie}` } : {}), ...headers },
    });

  /** Posts `form` url-encoded (array values as repeated fields); `csrf` adds the session's _csrf field. */
  const post = (
    path: string,
    s: Session | undefined,
    form: Record<string, string | string[]> = {},
    opts: { csrf?: boolean; headers?: Record<string, string> } = {},
  ) => {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) for (const x of [v].flat()) body.append(k, x);
    if (s && opts.csrf) body.set("_csrf", s.csrf);
    return fetch(`${base()}${path}`, {
      method: "POST",
      redirect: "manual",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        ...(s ? { cookie: `tm_session=${s.cookie}` } : {}),
        ...opts.headers,
      },
      body: body.toString(),
    });
  };

  return { signIn, get, post };
}
