import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { addUser, revokeUser, rotateToken } from "../../app/users.service.js";
import { AppError, notFound } from "../../domain/errors.js";
import { canonicalUserName, ROLES } from "../../domain/user.js";
import type { HttpDeps } from "../deps.js";
import type { Pages } from "../review/pages.js";
import { idParam } from "../schemas.js";
import { actionAccess, errorMessage, pageAccess, say, sendPage } from "./common.js";

const listQuery = z.object({ done: z.enum(["revoked"]).optional(), user: z.string().max(64).optional() });

/** A form's checkboxes: absent, one value, or several. */
const roleList = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((v) => (v === undefined ? [] : [v].flat()));

const addBody = z.object({
  name: z.string().max(200),
  roles: roleList,
  _csrf: z.string().optional(),
});
const csrfBody = z.object({ _csrf: z.string().optional() }).optional();

/**
 * Admins manage accounts in the browser with the same use cases as `testimony users` (add, token,
 * revoke; users:admin like /api/users). A token is shown once, on the page that answers the post,
 * never stored or put in a URL.
 */
export function workspaceUserRoutes(app: FastifyInstance, deps: HttpDeps, pages: Pages) {
  const { store } = deps;

  async function listPage(
    req: FastifyRequest,
    reply: FastifyReply,
    extra: Record<string, unknown> = {},
    status = 200,
  ) {
    const q = (req.query ?? {}) as z.output<typeof listQuery>;
    const users = (await store.users.list()).sort(
      (a, b) => Number(Boolean(a.revokedAt)) - Number(Boolean(b.revokedAt)) || a.id.localeCompare(b.id),
    );
    return sendPage(
      req,
      reply,
      pages,
      "users",
      {
        title: say(req, pages, "users.title"),
        users: users.map((u) => ({
          id: u.id,
          roles: u.roles.join(", "),
          createdAt: u.createdAt.slice(0, 10),
          createdBy: u.createdBy,
          revokedAt: u.revokedAt?.slice(0, 16).replace("T", " "),
          self: u.id === req.user!.id,
        })),
        roleOptions: ROLES.map((r) => ({
          value: r,
          checked: ((extra.checkedRoles as string[]) ?? []).includes(r),
        })),
        flash:
          q.done === "revoked" && q.user ? say(req, pages, "users.doneRevoked", { id: q.user }) : undefined,
        ...extra,
      },
      status,
    );
  }

  app.get(
    "/workspace/users",
    { config: pageAccess("users:admin"), schema: { querystring: listQuery } },
    async (req, reply) => listPage(req, reply),
  );

  app.post(
    "/workspace/users",
    { config: actionAccess("users:admin"), schema: { body: addBody } },
    async (req, reply) => {
      const body = req.body as z.output<typeof addBody>;
      try {
        const { user, token } = await addUser(store, body.name, body.roles, req.user!.id);
        req.log.info({ userId: user.id }, "user added in the workspace");
        return sendPage(req, reply, pages, "user-token", {
          title: say(req, pages, "userToken.title", { id: user.id }),
          subject: user.id,
          token,
          added: true,
          roles: user.roles.join(", "),
        });
      } catch (err) {
        if (!(err instanceof AppError) || !["invalid_input", "conflict"].includes(err.code)) throw err;
        const onRoles = err.details[0]?.field === "role";
        // The service words role errors for the CLI (--role); the form has checkboxes.
        // Other errors: the service's sentence in English, its code's words in another language.
        const message = onRoles ? say(req, pages, "users.rolesError") : errorMessage(req, pages, err);
        return listPage(
          req,
          reply,
          {
            addError: message,
            nameError: !onRoles,
            rolesError: onRoles,
            nameValue: body.name,
            checkedRoles: body.roles,
          },
          err.code === "conflict" ? 409 : 400,
        );
      }
    },
  );

  app.post(
    "/workspace/users/:id/token",
    {
      config: { ...actionAccess("users:admin"), entity: "user" },
      schema: { params: idParam, body: csrfBody },
    },
    async (req, reply) => {
      const id = canonicalUserName((req.params as { id: string }).id);
      const token = await rotateToken(store, id, req.user!.id);
      req.log.info({ userId: id }, "token issued in the workspace");
      return sendPage(req, reply, pages, "user-token", {
        title: say(req, pages, "userToken.title", { id }),
        subject: id,
        token,
      });
    },
  );

  /** The confirmation: revoking ends the user's token and sessions at once. */
  app.get(
    "/workspace/users/:id/revoke",
    { config: { ...pageAccess("users:admin"), entity: "user" }, schema: { params: idParam } },
    async (req, reply) => {
      const id = canonicalUserName((req.params as { id: string }).id);
      const found = await store.users.get(id);
      if (!found) throw notFound("user", id);
      return sendPage(req, reply, pages, "user-revoke", {
        title: say(req, pages, "userRevoke.title", { id }),
        subject: { id, roles: found.value.roles.join(", "), revoked: Boolean(found.value.revokedAt) },
        self: id === req.user!.id,
      });
    },
  );

  app.post(
    "/workspace/users/:id/revoke",
    {
      config: { ...actionAccess("users:admin"), entity: "user" },
      schema: { params: idParam, body: csrfBody },
    },
    async (req, reply) => {
      const id = canonicalUserName((req.params as { id: string }).id);
      await revokeUser(store, id, req.user!.id);
      req.log.info({ userId: id }, "user revoked in the workspace");
      return reply.redirect(`/workspace/users?done=revoked&user=${encodeURIComponent(id)}`, 303);
    },
  );
}
