import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { addUser, revokeUser } from "../../app/users.service.js";
import { notFound } from "../../domain/errors.js";
import { ROLES } from "../../domain/user.js";
import type { AppDeps } from "../deps.js";
import { apiRoute } from "../route.js";
import { auditView, idParam, publicSpeaker, userView } from "../schemas.js";

/** Who am I, users (admin), the audit trail, and speakers: public fields for all, private ones for admins. */
export function adminRoutes(app: FastifyInstance, deps: AppDeps) {
  const { store } = deps;

  apiRoute(app, {
    method: "GET",
    url: "/api/me",
    summary: "The signed-in user and roles",
    tags: ["users"],
    permission: "read",
    schema: { response: { 200: userView } },
    handler: async ({ user }) => user,
  });

  apiRoute(app, {
    method: "GET",
    url: "/api/users",
    summary: "List users (never their token hashes)",
    tags: ["users"],
    permission: "users:admin",
    schema: { response: { 200: z.object({ items: z.array(userView) }) } },
    handler: async () => ({ items: (await store.users.list()).sort((a, b) => a.id.localeCompare(b.id)) }),
  });

  apiRoute(app, {
    method: "POST",
    url: "/api/users",
    summary: "Add a user; the response carries its API token, shown once",
    tags: ["users"],
    permission: "users:admin",
    schema: {
      body: z.object({ name: z.string().min(1).max(64), roles: z.array(z.enum(ROLES)).min(1) }),
      response: { 201: z.object({ user: userView, token: z.string() }) },
    },
    handler: async ({ body, user, reply }) =>
      reply.code(201).send(await addUser(store, body.name, body.roles, user.id)),
  });

  apiRoute(app, {
    method: "POST",
    url: "/api/users/:id/revoke",
    summary: "Revoke a user's token (their review sessions end too)",
    tags: ["users"],
    permission: "users:admin",
    entity: "user",
    schema: { params: idParam, response: { 200: userView } },
    handler: async ({ params, user }) => revokeUser(store, params.id, user.id),
  });

  apiRoute(app, {
    method: "GET",
    url: "/api/audit",
    summary: "The audit trail, oldest first; ?entity= for one entity's history",
    tags: ["audit"],
    permission: "read",
    schema: {
      querystring: z.object({
        entity: z.string().min(1).max(64).optional(),
        limit: z.coerce.number().int().min(1).max(5000).default(500),
      }),
      response: { 200: z.object({ items: z.array(auditView) }) },
    },
    handler: async ({ query }) => ({
      items: await store.audit.list({ entity: query.entity, limit: query.limit }),
    }),
  });

  apiRoute(app, {
    method: "GET",
    url: "/api/speakers",
    summary: "Speakers' publishable fields",
    tags: ["speakers"],
    permission: "read",
    schema: { response: { 200: z.object({ items: z.array(publicSpeaker) }) } },
    handler: async () => ({ items: (await store.speakers.list()).sort((a, b) => a.id.localeCompare(b.id)) }),
  });

  apiRoute(app, {
    method: "GET",
    url: "/api/speakers/:id/private",
    summary: "A speaker with private fields, consent evidence and redaction terms (admins only)",
    tags: ["speakers"],
    permission: "speakers:private",
    entity: "speaker",
    schema: { params: idParam },
    handler: async ({ params, user, req }) => {
      const found = await store.speakers.get(params.id);
      if (!found) throw notFound("speaker", params.id);
      // Reading someone's real name is itself worth a trace.
      const at = new Date().toISOString();
      await store.audit.append({ actor: user.id, action: "speaker.private_read", entity: params.id, at });
      req.log.info("private speaker fields read");
      return found.value;
    },
  });
}
