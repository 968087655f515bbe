import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { bulkApprove, decide } from "../../app/review.service.js";
import { cleanText } from "../../domain/clean-text.js";
import type { HttpDeps } from "../deps.js";
import { idParam } from "../schemas.js";

/**
 * The review page's decisions: the same use cases as the API, reached with the session cookie and
 * the CSRF token (header from the page script, hidden field from the plain bulk form).
 */
const access = { auth: "session", permission: "review" } as const;

const comment = cleanText("multiline").trim().max(2000);
const decisionBody = z.object({ comment: comment.optional(), _csrf: z.string().optional() }).optional();
const rejectBody = z.object({ comment: comment.min(1, "say why"), _csrf: z.string().optional() });
const bulkBody = z.object({
  // A form sends one `ids` field as a string and several as an array.
  ids: z
    .union([idParam.shape.id, z.array(idParam.shape.id)])
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .pipe(z.array(z.string()).min(1, "select at least one output").max(500)),
  _csrf: z.string().optional(),
});

const wantsJson = (req: FastifyRequest) => (req.headers.accept ?? "").includes("application/json");

export function reviewActionRoutes(app: FastifyInstance, deps: HttpDeps) {
  const { store } = deps;

  const decision = (kind: "approved" | "rejected") => async (req: FastifyRequest, reply: FastifyReply) => {
    const { id } = req.params as { id: string };
    const body = req.body as { comment?: string } | undefined;
    const out = await decide(store, id, kind, req.user!.id, body?.comment);
    req.log.info({ decision: kind }, `output ${kind} on the review page`);
    return reply.send({ id: out.id, status: out.status });
  };

  app.post(
    "/review/outputs/:id/approve",
    { config: { access, entity: "output" }, schema: { params: idParam, body: decisionBody } },
    decision("approved"),
  );
  app.post(
    "/review/outputs/:id/reject",
    { config: { access, entity: "output" }, schema: { params: idParam, body: rejectBody } },
    decision("rejected"),
  );

  app.post(
    "/review/outputs/bulk-approve",
    { config: { access }, schema: { body: bulkBody } },
    async (req, reply) => {
      const { ids } = req.body as z.output<typeof bulkBody>;
      const results = await bulkApprove(store, [...new Set(ids)], req.user!.id);
      for (const r of results)
        req.log.info({ outputId: r.id, ok: r.ok, error: r.error?.code }, "bulk approve");
      if (wantsJson(req)) return reply.send({ results });
      const ok = results.filter((r) => r.ok).length;
      return reply.redirect(`/review?approved=${ok}&failed=${results.length - ok}`, 303);
    },
  );
}
