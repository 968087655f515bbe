import { randomBytes } from "node:crypto";
import type { FastifyInstance, FastifyReply } from "fastify";
import { z } from "zod";
import { authenticate } from "../../app/users.service.js";
import { can } from "../../domain/user.js";
import { SESSION_COOKIE, sameToken } from "../auth.js";
import type { HttpDeps } from "../deps.js";
import type { Pages } from "./pages.js";

/** Before there is a session, the login form is protected by a double-submit cookie. */
const LOGIN_COOKIE = "tm_login";

const loginBody = z.object({
  token: z.string().max(200).default(""),
  _csrf: z.string().max(100).default(""),
  next: z.string().max(500).default(""),
});

/** Only back into the review page: never an open redirect to another site. */
const safeNext = (next: string | undefined) =>
  next && /^\/review(?:[/?]|$)/.test(next) && !next.startsWith("//") ? next : "/review";

export function loginRoutes(app: FastifyInstance, deps: HttpDeps, pages: Pages) {
  const cookieBase = { httpOnly: true, sameSite: "strict", secure: "auto", path: "/" } as const;

  function loginPage(reply: FastifyReply, status: number, next: string, error?: string) {
    const loginCsrf = randomBytes(24).toString("base64url");
    reply.setCookie(LOGIN_COOKIE, loginCsrf, { ...cookieBase, path: "/review/login", maxAge: 3600 });
    return reply
      .code(status)
      .type("text/html; charset=utf-8")
      .header("cache-control", "no-store")
      .send(pages.render("login", { title: "Sign in", loginCsrf, next: safeNext(next), error }));
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
      return loginPage(reply, 200, next);
    },
  );

  app.post(
    "/review/login",
    { config: { access: { auth: "public" } }, schema: { body: loginBody } },
    async (req, reply) => {
      const body = req.body as z.output<typeof loginBody>;
      const expected = req.cookies[LOGIN_COOKIE];
      if (!expected || !sameToken(expected, body._csrf)) {
        return loginPage(reply, 403, body.next, "The form expired. Please paste your token again.");
      }
      const user = await authenticate(deps.store, body.token.trim());
      if (!user) {
        req.log.info("review sign-in refused: bad token");
        return loginPage(reply, 401, body.next, "That token is not valid, or it was revoked.");
      }
      if (!can(user, "read"))
        return loginPage(reply, 403, body.next, `${user.id} may not use the review page.`);
      const session = await deps.sessions.create(user.id);
      req.log.info({ user: user.id }, "review sign-in");
      reply.clearCookie(LOGIN_COOKIE, { path: "/review/login" });
      // A browser-session cookie; Redis ends the session after the idle time or the absolute maximum.
      reply.setCookie(SESSION_COOKIE, session.id, cookieBase);
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
