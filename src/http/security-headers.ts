import type { FastifyInstance, FastifyRequest } from "fastify";

/** Our pages load only their own CSS, script and images: no inline code, no framing, no foreign forms. */
const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  // blob: lets the campaign page show the cards it fetched from POST /api/campaigns/preview; only our
  // own script (script-src 'self') can make a blob URL, so nothing foreign is let in.
  "img-src 'self' blob:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

/**
 * bull-board (/admin/queues): its own scripts and styles from 'self', but it styles its loading
 * screen inline and sets `<base href>`; its web font from Google is not let through (the system
 * font stands in), so an admin's visits are not announced to a third party. No inline script runs.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
].join("; ");

/** Anything that is not a page (JSON, images, text, scripts) runs nothing and is never framed. */
export const NOTHING_CSP = "default-src 'none'; frame-ancestors 'none'";

/** Headers every response carries, whatever its route, status or content type. */
export const ALWAYS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "x-frame-options": "DENY",
} as const;

/**
 * Anything that needs a credential, and the whole API, carries private or per-user data (or says
 * who you are not): never kept by a browser or a shared cache.
 */
function isPrivate(req: FastifyRequest): boolean {
  const access = req.routeOptions.config?.access;
  return (
    req.url.startsWith("/api/") ||
    req.url.startsWith("/admin/") ||
    req.url.startsWith("/metrics") ||
    (access !== undefined && access.auth !== "public")
  );
}

export function securityHeaders(app: FastifyInstance) {
  app.addHook("onSend", async (req, reply, payload) => {
    reply.header("x-request-id", req.id);
    for (const [name, value] of Object.entries(ALWAYS)) reply.header(name, value);
    if (isPrivate(req)) reply.header("cache-control", "no-store");
    const type = String(reply.getHeader("content-type") ?? "");
    const html = type.startsWith("text/html");
    const admin = req.url.startsWith("/admin/");
    reply.header("content-security-policy", html ? (admin ? DASHBOARD_CSP : PAGE_CSP) : NOTHING_CSP);
    return payload;
  });
}
