import type { Permission, User } from "../domain/user.js";
import type { Session } from "../store/session.store.js";

/**
 * Who may call a route, declared on every route as `config.access`; app.ts refuses to start when a
 * route has none, so a new route cannot forget it.
 * - public: anyone (health, metrics, OpenAPI, login page, static page assets);
 * - bearer: an API token (`Authorization: Bearer tm_...`);
 * - session: the review page's session cookie, plus the CSRF token on anything but GET;
 * - admin: either of the two (the queue dashboard is used from a browser and by scripts);
 * - any: either of the two as well, but a session request still needs the CSRF token (API routes the
 *   workspace's pages call from the browser: the live preview, bundle downloads).
 */
export type Access =
  | { auth: "public" }
  | { auth: "bearer" | "session" | "admin" | "any"; permission: Permission | "signed-in" };

/** Which route parameter names an entity, so every log line of the request carries its id. */
export type EntityKind = "output" | "quote" | "campaign" | "user" | "speaker";

export type RouteConfig = {
  access?: Access;
  entity?: EntityKind;
  /** Non-JSON success content type, for the OpenAPI document. */
  produces?: string;
  /** Unauthenticated GETs of pages go to the login form instead of a 401. */
  loginRedirect?: boolean;
};

declare module "fastify" {
  interface FastifyContextConfig extends RouteConfig {}
  interface FastifyRequest {
    user: User | null;
    session: (Session & { id: string }) | null;
  }
}
