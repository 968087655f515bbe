import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { retryOutput, retryOutputs } from "../../app/retry-outputs.service.js";
import { bulkApprove, decide, getOutput, pageOutputs } from "../../app/review.service.js";
import { FORMAT_NAMES, TEXT_VARIANTS } from "../../domain/campaign.js";
import { cleanText } from "../../domain/clean-text.js";
import { AppError } from "../../domain/errors.js";
import { NARRATIVES } from "../../domain/narrative.js";
import { OUTPUT_STATES } from "../../domain/output.js";
import { cardStore, readCard } from "../card-file.js";
import type { AppDeps } from "../deps.js";
import { apiRoute } from "../route.js";
import { idParam, outputView, toOutputView } from "../schemas.js";

const listQuery = z.object({
  campaign: z.string().min(1).max(64).optional(),
  status: z.enum(OUTPUT_STATES).optional(),
  narrative: z.enum(NARRATIVES).optional(),
  locale: z.string().min(1).max(35).optional(),
  speaker: z.string().min(1).max(64).optional(),
  format: z.enum(FORMAT_NAMES as [string, ...string[]]).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
});

const page = z.object({ items: z.array(outputView), nextCursor: z.string().optional(), total: z.number() });
const comment = cleanText("multiline").trim().max(2000);
const bulkResult = z.object({
  id: z.string(),
  ok: z.boolean(),
  status: z.enum(OUTPUT_STATES).optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});

const retryResult = bulkResult.extend({
  was: z.object({ reason: z.string(), message: z.string() }).optional(),
});
const retryReason = z.string().trim().max(2000);

export function outputsRoutes(app: FastifyInstance, deps: AppDeps) {
  const { store } = deps;

  apiRoute(app, {
    method: "GET",
    url: "/api/outputs",
    summary: "List outputs by campaign, status, narrative, locale, speaker or format; paginated by cursor",
    tags: ["outputs"],
    permission: "read",
    schema: { querystring: listQuery, response: { 200: page } },
    handler: async ({ query }) => {
      const page = await pageOutputs(
        store,
        {
          campaignId: query.campaign,
          status: query.status,
          narrative: query.narrative,
          locale: query.locale,
          speakerId: query.speaker,
          format: query.format,
        },
        { limit: query.limit, cursor: query.cursor },
      );
      return { ...page, items: page.items.map(toOutputView) };
    },
  });

  apiRoute(app, {
    method: "GET",
    url: "/api/outputs/:id",
    summary: "One output: status, text variants, what the card shows, decisions",
    tags: ["outputs"],
    permission: "read",
    entity: "output",
    schema: { params: idParam, response: { 200: outputView } },
    handler: async ({ params }) => toOutputView(await getOutput(store, params.id)),
  });

  apiRoute(app, {
    method: "GET",
    url: "/api/outputs/:id/card",
    summary: "The card image (PNG, JPEG or WebP as the campaign encodes)",
    tags: ["outputs"],
    permission: "read",
    entity: "output",
    produces: "image/*",
    schema: { params: idParam },
    handler: async ({ params, reply }) => {
      const card = await readCard(cardStore(deps), await getOutput(store, params.id));
      if (card.etag) reply.header("etag", card.etag);
      return reply.type(card.type).header("cache-control", "private, max-age=300").send(card.bytes);
    },
  });

  apiRoute(app, {
    method: "GET",
    url: "/api/outputs/:id/text/:variant",
    summary: "One text variant as plain text",
    tags: ["outputs"],
    permission: "read",
    entity: "output",
    produces: "text/plain",
    schema: { params: idParam.extend({ variant: z.enum(TEXT_VARIANTS) }) },
    handler: async ({ params, reply }) => {
      const text = (await getOutput(store, params.id)).variants?.[params.variant];
      if (text === undefined)
        throw new AppError("not_found", `output ${params.id} has no ${params.variant} text`);
      return reply.type("text/plain; charset=utf-8").send(text);
    },
  });

  apiRoute(app, {
    method: "POST",
    url: "/api/outputs/:id/approve",
    summary: "Approve an output in review (not one you queued: four eyes)",
    tags: ["review"],
    permission: "review",
    entity: "output",
    schema: {
      params: idParam,
      body: z.object({ comment: comment.optional() }).optional(),
      response: { 200: outputView },
    },
    handler: async ({ params, body, user, req }) => {
      const out = await decide(store, params.id, "approved", user.id, body?.comment);
      req.log.info({ decision: "approved" }, "output approved");
      return toOutputView(out);
    },
  });

  apiRoute(app, {
    method: "POST",
    url: "/api/outputs/:id/reject",
    summary: "Reject an output in review, with a comment saying why",
    tags: ["review"],
    permission: "review",
    entity: "output",
    schema: {
      params: idParam,
      body: z.object({ comment: comment.min(1, "say why") }),
      response: { 200: outputView },
    },
    handler: async ({ params, body, user, req }) => {
      const out = await decide(store, params.id, "rejected", user.id, body.comment);
      req.log.info({ decision: "rejected" }, "output rejected");
      return toOutputView(out);
    },
  });

  apiRoute(app, {
    method: "POST",
    url: "/api/outputs/bulk-approve",
    summary: "Approve several outputs; each succeeds or fails on its own",
    tags: ["review"],
    permission: "review",
    schema: {
      body: z.object({
        ids: z.array(idParam.shape.id).min(1, "at least one id").max(500, "at most 500 ids"),
        comment: comment.optional(),
      }),
      response: { 200: z.object({ results: z.array(bulkResult) }) },
    },
    handler: async ({ body, user, req }) => {
      const results = await bulkApprove(store, [...new Set(body.ids)], user.id, body.comment);
      for (const r of results)
        req.log.info({ outputId: r.id, ok: r.ok, error: r.error?.code }, "bulk approve");
      return { results };
    },
  });

  apiRoute(app, {
    method: "POST",
    url: "/api/outputs/:id/retry",
    summary: "Retry a failed output: back to queued with a fresh render job (audited)",
    tags: ["outputs"],
    permission: "queue",
    entity: "output",
    schema: {
      params: idParam,
      body: z.object({ reason: retryReason.optional() }).optional(),
      response: { 200: outputView },
    },
    handler: async ({ params, body, user, req }) => {
      const out = await retryOutput(store, deps.queues, params.id, user.id, body?.reason);
      req.log.info("output retried");
      return toOutputView(out);
    },
  });

  apiRoute(app, {
    method: "POST",
    url: "/api/outputs/bulk-retry",
    summary: "Retry several failed outputs, or every failed output of a campaign; each on its own",
    tags: ["outputs"],
    permission: "queue",
    schema: {
      body: z.object({
        ids: z.array(idParam.shape.id).min(1, "at least one id").max(500, "at most 500 ids").optional(),
        campaign: z.string().min(1).max(64).optional(),
        reason: retryReason.optional(),
      }),
      response: { 200: z.object({ results: z.array(retryResult) }) },
    },
    handler: async ({ body, user, req }) => {
      const results = await retryOutputs(
        store,
        deps.queues,
        { ids: body.ids, campaignId: body.campaign },
        user.id,
        body.reason,
      );
      for (const r of results) req.log.info({ outputId: r.id, ok: r.ok, error: r.error?.code }, "bulk retry");
      return { results };
    },
  });
}
