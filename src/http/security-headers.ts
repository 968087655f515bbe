import type { FastifyInstance } from "fastify";

/** Our pages load only their own CSS, script and images: no inline code, no framing, no foreign forms. */
const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

export function securityHeaders(app: FastifyInstance) {
  app.addHook("onSend", async (req, reply, payload) => {
    reply.header("x-request-id", req.id);
    reply.header("x-content-type-options", "nosniff");
    reply.header("referrer-policy", "same-origin");
    // bull-board's UI brings its own inline bootstrap script, so the strict policy stops at our pages.
    if (!req.url.startsWith("/admin/")) {
      reply.header("x-frame-options", "DENY");
      const type = String(reply.getHeader("content-type") ?? "");
      if (type.startsWith("text/html")) reply.header("content-security-policy", PAGE_CSP);
    }
    return payload;
  });
}
