import { createHmac, randomBytes } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { authenticate } from "../../app/users.service.js";
import { AppError } from "../../domain/errors.js";
import { can } from "../../domain/user.js";
import { signingKey } from "../../store/signing-key.store.js";
import { SESSION_COOKIE, sameOrigin, sameToken } from "../auth.js";
import type { HttpDeps } from "../deps.js";
import { sendError } from "../errors.js";
import { negotiate } from "../i18n.js";
import type { Pages } from "./pages.js";

/**
 * Before there is a session, the sign-in form carries a token the server signed (HMAC with a key kept
 * in Redis) over a random nonce held in an httpOnly cookie and the time it was issued. An attacker who
 * can plant a cookie cannot make a matching token for a value of their choosing (the old double-submit
 * cookie accepted any pair of equal values), a token lives an hour, and a cross-site post is refused
 * on its Origin / Sec-Fetch-Site before the token is even looked at.
 */
const LOGIN_COOKIE = "tm_login";
const LOGIN_TTL_SECONDS = 3600;
/** The sign-in form is public: a token, a CSRF token and a path fit in far less. */
export const LOGIN_BODY_LIMIT = 8 * 1024;

const loginBody = z.object({
  token: z.string().max(200).default(""),
  _csrf: z.string().max(200).default(""),
  next: z.string().max(500).default(""),
});

/** Only back into the review page or the staff workspace: never an open redirect to another site. */
const safeNext = (next: string | undefined) =>
  next && /^\/(?:review|workspace)(?:[/?]|$)/.test(next) && !next.startsWith("//") ? next : "/review";

const sign = (key: Buffer, nonce: string, issued: number) =>
  createHmac("sha256", key).update(`login\u0000${nonce}\u0000${issued}`).digest("base64url");

export function loginRoutes(app: FastifyInstance, deps: HttpDeps, pages: Pages) {
  const cookieBase = { httpOnly: true, sameSite: "strict", secure: deps.secureCookies, path: "/" } as const;
  let key: Promise<Buffer> | undefined;
  const loginKey = () => {
    key ??= signingKey(deps.store, "login-form").catch((err) => {
      key = undefined;
      throw err;
    });
    return key;
  };

  /** Before sign-in there is no chosen language: the browser's Accept-Language decides. */
  const languageOf = (req: FastifyRequest) =>
    negotiate(
      req.headers["accept-language"],
      pages.i18n.languages.map((l) => l.code),
    );
  const say = (req: FastifyRequest, key: string, values?: Record<string, unknown>) =>
    pages.i18n.t(languageOf(req), key, values);

  async function loginPage(
    req: FastifyRequest,
    reply: FastifyReply,
    status: number,
    next: string,
    error?: string,
  ) {
    const lang = languageOf(req);
    const nonce = randomBytes(24).toString("base64url");
    const issued = Math.floor(Date.now() / 1000);
    const loginCsrf = `${issued}.${sign(await loginKey(), nonce, issued)}`;
    reply.setCookie(LOGIN_COOKIE, nonce, { ...cookieBase, path: "/review/login", maxAge: LOGIN_TTL_SECONDS });
    return reply
      .code(status)
      .type("text/html; charset=utf-8")
      .header("cache-control", "no-store")
      .send(
        pages.render("login", {
          lang,
          title: pages.i18n.t(lang, "login.title"),
          loginCsrf,
          next: safeNext(next),
          error,
        }),
      );
  }

  /** The form's token was signed by us for this browser's nonce, within the hour. */
  async function formIsOurs(req: FastifyRequest, given: string): Promise<boolean> {
    const nonce = req.cookies[LOGIN_COOKIE];
    const m = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(given);
    if (!nonce || !m) return false;
    const issued = Number(m[1]);
    const age = Date.now() / 1000 - issued;
    if (age < -60 || age > LOGIN_TTL_SECONDS) return false;
    return sameToken(sign(await loginKey(), nonce, issued), m[2]);
  }

  app.get(
    "/review/login",
    {
      config: { access: { auth: "public" } },
      schema: { querystring: z.object({ next: z.string().max(500).optional() }) },
    },
    async (req, reply) => {
      const next = (req.query as { next?: string }).next ?? "";
      if (await deps.sessions.get(req.cookies[SESSION_COOKIE])) return reply.redirect(safeNext(next), 303);
      return loginPage(req, reply, 200, next);
    },
  );

  app.post(
    "/review/login",
    { config: { access: { auth: "public" } }, bodyLimit: LOGIN_BODY_LIMIT, schema: { body: loginBody } },
    async (req, reply) => {
      const body = req.body as z.output<typeof loginBody>;
      if (!sameOrigin(req))
        return sendError(req, reply, new AppError("forbidden", "cross-site sign-in refused"));
      if (!(await formIsOurs(req, body._csrf))) {
        return loginPage(req, reply, 403, body.next, say(req, "login.expired"));
      }
      const token = body.token.trim();
      try {
        await deps.throttle.check(req, reply, token);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        req.log.info("review sign-in refused: rate limited");
        const wait = reply.getHeader("retry-after");
        return loginPage(req, reply, 429, body.next, say(req, "login.throttled", { count: Number(wait) }));
      }
      const user = await authenticate(deps.store, token);
      if (!user) {
        await deps.throttle.failed(req, token);
        req.log.info("review sign-in refused: bad token");
        return loginPage(req, reply, 401, body.next, say(req, "login.invalid"));
      }
      if (!can(user, "read"))
        return loginPage(req, reply, 403, body.next, say(req, "login.notAllowed", { user: user.id }));
      const session = await deps.sessions.create(user.id);
      req.log.info({ user: user.id }, "review sign-in");
      reply.clearCookie(LOGIN_COOKIE, { path: "/review/login" });
      // A browser-session cookie; Redis ends the session after the idle time or the absolute maximum.
      reply.setCookie(SESSION_COOKIE, session.id, cookieBase);
      return reply.redirect(safeNext(body.next), 303);
    },
  );

  // The language switcher in the top bar: the choice is kept in the session and for the user's next
  // sign-ins (see SessionStore.setLanguage); the session's CSRF token is checked like any form's.
  const codes = pages.i18n.languages.map((l) => l.code) as [string, ...string[]];
  const languageBody = z.object({
    lang: z.enum(codes, { error: () => `must be one of ${codes.join(", ")}` }),
    next: z.string().max(500).default(""),
    _csrf: z.string().max(200).optional(),
  });
  app.post(
    "/review/language",
    {
      config: { access: { auth: "session", permission: "signed-in" } },
      bodyLimit: LOGIN_BODY_LIMIT,
      schema: { body: languageBody },
    },
    async (req, reply) => {
      const body = req.body as z.output<typeof languageBody>;
      await deps.sessions.setLanguage(req.session!, body.lang);
      req.log.info({ lang: body.lang }, "page language chosen");
      return reply.redirect(safeNext(body.next), 303);
    },
  );

  app.post(
    "/review/logout",
    { config: { access: { auth: "session", permission: "signed-in" } } },
    async (req, reply) => {
      await deps.sessions.destroy(req.session!.id);
      req.log.info("review sign-out");
      reply.clearCookie(SESSION_COOKIE, { path: "/" });
      return reply.redirect("/review/login", 303);
    },
  );
}
