import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { AppError, ErrorDetail } from "../../domain/errors.js";
import type { Permission } from "../../domain/user.js";
import { TEMPLATES_DIR } from "../../paths.js";
import { DEFAULT_LANGUAGE, requestLanguage } from "../i18n.js";
import type { Pages } from "../review/pages.js";

/** A staff page: the review session, the same permission as the API, strangers sent to sign in. */
export const pageAccess = (permission: Permission) => ({
  access: { auth: "session" as const, permission },
  loginRedirect: true,
});
/** A form post or an htmx request of the workspace: the session, the permission, the CSRF token. */
export const actionAccess = (permission: Permission) => ({
  access: { auth: "session" as const, permission },
});

/** htmx asks for a fragment; a plain form (no script) gets the whole page. */
export const isHtmx = (req: FastifyRequest) => req.headers["hx-request"] === "true";

/** Renders a workspace page in the shared layout, in the user's language, with the navigation and the CSRF token. */
export function sendPage(
  req: FastifyRequest,
  reply: FastifyReply,
  pages: Pages,
  name: string,
  data: Record<string, unknown>,
  status = 200,
) {
  const user = req.user!;
  const html = pages.render(`workspace/${name}`, {
    workspace: true,
    lang: requestLanguage(req, pages.i18n),
    path: req.url.split("?")[0],
    here: req.url,
    user: { id: user.id, roles: user.roles.join(", ") },
    csrf: req.session!.csrf,
    ...data,
  });
  return reply.code(status).type("text/html; charset=utf-8").header("cache-control", "no-store").send(html);
}

/** A route's own message in the request's language (see src/templates/pages/i18n). */
export const say = (req: FastifyRequest, pages: Pages, key: string, values?: Record<string, unknown>) =>
  pages.i18n.t(requestLanguage(req, pages.i18n), key, values);

/**
 * A service error as a page shows it: in the default language its own sentence (first line), in
 * another language the catalogue's words for its code (`error.<code>`, one per code of src/domain/errors.ts).
 */
export function errorMessage(req: FastifyRequest, pages: Pages, err: AppError): string {
  const lang = requestLanguage(req, pages.i18n);
  if (lang === DEFAULT_LANGUAGE) return err.message.split("\n")[0]?.replace(/:$/, "") ?? err.message;
  return pages.i18n.t(lang, `error.${err.code}`);
}

/**
 * A field's error beside it: the schema's (English) message in the default language, otherwise the
 * catalogue's rule for that field (`fieldError.<field>`, numbers and delivery rows left out of the
 * name), else its generic words.
 */
export function fieldMessage(pages: Pages, lang: string, d: ErrorDetail, prefix = "fieldError"): string {
  if (lang === DEFAULT_LANGUAGE) return d.message;
  const field = (d.field ?? "")
    .split(".")
    .filter((p) => p && !/^r?\d+$/.test(p))
    .join("_");
  for (const key of [field, field.split("_")[0]])
    if (key) {
      const k = `${prefix}.${key}`;
      const said = pages.i18n.t(lang, k);
      if (said !== k) return said;
    }
  return pages.i18n.t(lang, "fieldError.other");
}

const require = createRequire(import.meta.url);

/** The workspace's CSS and script, and htmx's minified build from node_modules: read once, served by route. */
function loadWorkspaceAssets() {
  const dir = path.join(TEMPLATES_DIR, "pages", "workspace");
  const js = "text/javascript; charset=utf-8";
  return new Map([
    [
      "workspace.css",
      { body: readFileSync(path.join(dir, "workspace.css"), "utf8"), type: "text/css; charset=utf-8" },
    ],
    ["workspace.js", { body: readFileSync(path.join(dir, "workspace.js"), "utf8"), type: js }],
    ["htmx.min.js", { body: readFileSync(require.resolve("htmx.org/dist/htmx.min.js"), "utf8"), type: js }],
  ]);
}

export function workspaceAssetRoutes(app: FastifyInstance) {
  const assets = loadWorkspaceAssets();
  app.get(
    "/workspace/assets/:file",
    {
      config: { access: { auth: "public" } },
      schema: { params: z.object({ file: z.enum(["workspace.css", "workspace.js", "htmx.min.js"]) }) },
    },
    async (req, reply) => {
      const asset = assets.get((req.params as { file: string }).file)!;
      return reply.type(asset.type).header("cache-control", "no-cache").send(asset.body);
    },
  );
}
