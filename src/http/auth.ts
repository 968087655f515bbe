import { timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { authenticate, requirePermission } from "../app/users.service.js";
import { AppError } from "../domain/errors.js";
import type { User } from "../domain/user.js";
import type { SessionStore } from "../store/session.store.js";
import type { Store } from "../store/store.js";
import type { Access } from "./access.js";
import { sendError } from "./errors.js";
import type { TokenThrottle } from "./token-throttle.js";

export const SESSION_COOKIE = "tm_session";
export const CSRF_HEADER = "x-csrf-token";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Constant-time comparison of a submitted CSRF token with the session's. */
export function sameToken(expected: string, given: unknown): boolean {
  if (typeof given !== "string") return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function bearerToken(req: FastifyRequest): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
  return m?.[1];
}

async function sessionUser(
  req: FastifyRequest,
  store: Store,
  sessions: SessionStore,
): Promise<User | undefined> {
  const session = await sessions.get(req.cookies[SESSION_COOKIE]);
  if (!session) return undefined;
  const found = await store.users.get(session.userId);
  // Revoking a user ends their sessions at once: the user is read again on every request.
  if (!found || found.value.revokedAt) {
    await sessions.destroy(session.id);
    return undefined;
  }
  req.session = session;
  return found.value;
}

async function identify(req: FastifyRequest, access: Access, store: Store, sessions: SessionStore) {
  if (access.auth === "bearer") return authenticate(store, bearerToken(req));
  if (access.auth === "session") return sessionUser(req, store, sessions);
  // admin and any: a token when one is given (scripts), else the browser's session.
  return req.headers.authorization
    ? authenticate(store, bearerToken(req))
    : sessionUser(req, store, sessions);
}

/** Cookies travel with cross-site requests in old browsers; a foreign Origin is refused outright. */
export function sameOrigin(req: FastifyRequest): boolean {
  const site = req.headers["sec-fetch-site"];
  if (site && site !== "same-origin" && site !== "none") return false;
  const origin = req.headers.origin;
  if (!origin) return true;
  try {
    // Through URL on both sides, so a default port (":80") compares equal to none.
    return new URL(origin).host === new URL(`${req.protocol}://${req.headers.host}`).host;
  } catch {
    return false;
  }
}

/**
 * Authentication (401) and roles (403) run on every request before the body is even read; the CSRF
 * check runs once the body is parsed, for requests that rode on the session cookie.
 */
export function registerAuth(
  app: FastifyInstance,
  deps: { store: Store; sessions: SessionStore; throttle: TokenThrottle },
) {
  app.decorateRequest("user", null);
  app.decorateRequest("session", null);

  // Hooks answer errors themselves: plugins such as bull-board bring their own error handler.
  app.addHook("onRequest", async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      return await checkAccess(req, reply);
    } catch (err) {
      return sendError(req, reply, err);
    }
  });

  app.addHook("preValidation", async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      checkCsrf(req);
    } catch (err) {
      return sendError(req, reply, err);
    }
  });

  async function checkAccess(req: FastifyRequest, reply: FastifyReply) {
    const { access, entity, loginRedirect } = req.routeOptions.config;
    const id = (req.params as Record<string, string> | undefined)?.id;
    if (entity && id) {
      const log = req.log.child({ [`${entity}Id`]: id });
      req.log = log;
      reply.log = log;
    }
    if (!access || access.auth === "public") return;
    // A presented API token is a token check: refused while its client or prefix is over the limit.
    const token =
      req.headers.authorization && access.auth !== "session" ? (bearerToken(req) ?? "") : undefined;
    if (token !== undefined) await deps.throttle.check(req, reply, token);
    const user = await identify(req, access, deps.store, deps.sessions);
    if (!user && token !== undefined) await deps.throttle.failed(req, token);
    if (!user) {
      if (loginRedirect && req.method === "GET") {
        return reply.redirect(`/review/login?next=${encodeURIComponent(req.url)}`, 303);
      }
      throw new AppError(
        "unauthorized",
        access.auth === "bearer"
          ? "a valid API token is required: Authorization: Bearer tm_..."
          : access.auth === "session"
            ? "sign in first at /review/login"
            : access.auth === "any"
              ? "a valid API token (Authorization: Bearer tm_...) or a signed-in session is required"
              : "sign in at /review/login or pass an admin API token",
      );
    }
    req.user = user;
    req.log = req.log.child({ user: user.id });
    reply.log = req.log;
    if (access.permission !== "signed-in") requirePermission(user, access.permission);
  }
}

function checkCsrf(req: FastifyRequest) {
  if (!req.session || SAFE_METHODS.has(req.method)) return;
  if (!sameOrigin(req)) throw new AppError("forbidden", "cross-site request refused");
  // The queue dashboard's own script cannot send our token; SameSite=Strict and the Origin check cover it.
  if (req.routeOptions.config.access?.auth === "admin") return;
  const given = req.headers[CSRF_HEADER] ?? (req.body as { _csrf?: unknown } | undefined)?._csrf;
  if (!sameToken(req.session.csrf, given)) {
    throw new AppError("forbidden", "missing or wrong CSRF token: reload the page and try again");
  }
}
