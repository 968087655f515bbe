import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { addRedaction, listRedactions, removeRedaction } from "../../app/safety.service.js";
import type { AppDeps } from "../deps.js";
import { apiRoute } from "../route.js";
import { idParam } from "../schemas.js";

const redactionView = z.object({
  id: z.string(),
  term: z.string(),
  speakerId: z.string().optional(),
  speakerPseudonym: z.string().optional(),
  createdAt: z.string(),
  createdBy: z.string(),
});

/** Stored redaction terms: list, add, remove, with the permission consent withdrawal needs. */
export function redactionsRoutes(app: FastifyInstance, deps: AppDeps) {
  const { store } = deps;

  apiRoute(app, {
    method: "GET",
    url: "/api/redactions",
    summary: "Stored redaction terms, global first, then per speaker",
    tags: ["speakers"],
    permission: "speakers:consent",
    schema: { response: { 200: z.object({ items: z.array(redactionView) }) } },
    handler: async () => ({ items: await listRedactions(store) }),
  });

  apiRoute(app, {
    method: "POST",
    url: "/api/redactions",
    summary: "Add a term: any output containing it fails, at render and again at export",
    tags: ["speakers"],
    permission: "speakers:consent",
    schema: {
      body: z.object({ term: z.string().max(200), speakerId: z.string().max(64).optional() }),
      response: { 200: z.object({ id: z.string(), created: z.boolean() }) },
    },
    handler: async ({ body, user }) => addRedaction(store, body.term, user.id, body.speakerId),
  });

  apiRoute(app, {
    method: "DELETE",
    url: "/api/redactions/:id",
    summary: "Remove a stored term (audited: who, when, the term's id and scope, never the term)",
    tags: ["speakers"],
    permission: "speakers:consent",
    schema: {
      params: idParam,
      response: { 200: z.object({ id: z.string(), speakerId: z.string().optional() }) },
    },
    handler: async ({ params, user, req }) => {
      const r = await removeRedaction(store, params.id, user.id);
      req.log.info({ redactionId: r.id }, "redaction term removed");
      return r;
    },
  });
}
