import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { coverage } from "../../app/coverage.service.js";
import { bundleDeliveries, redeliver } from "../../app/deliver.service.js";
import { ackTakedowns, pendingTakedowns, withdrawConsent } from "../../app/safety.service.js";
import { cleanText } from "../../domain/clean-text.js";
import { notFound } from "../../domain/errors.js";
import type { Logger } from "../../logger.js";
import type { AppDeps } from "../deps.js";
import { dropNow } from "../drop-now.js";
import { apiRoute } from "../route.js";
import { idParam } from "../schemas.js";
import { redactionsRoutes } from "./redactions.routes.js";

const attemptSchema = z.object({
  target: z.string(),
  type: z.enum(["s3", "webhook"]),
  event: z.string(),
  attempt: z.number(),
  status: z.enum(["delivered", "retrying", "failed"]),
  httpStatus: z.number().optional(),
  error: z.string().optional(),
  at: z.string(),
});
/** Where a complete bundle went: per target (s3, webhook) its state and every attempt. */
const deliverySchema = z.object({
  status: z.enum(["none", "pending", "delivered", "failed"]),
  targets: z.array(
    z.object({
      target: z.string(),
      type: z.enum(["s3", "webhook"]),
      status: z.enum(["pending", "delivered", "retrying", "failed"]),
      attempts: z.array(attemptSchema),
    }),
  ),
});
const bundleSchema = z.object({
  id: z.string(),
  campaignId: z.string(),
  slot: z.string(),
  status: z.enum(["writing", "complete", "released"]),
  outputIds: z.array(z.string()),
  takedowns: z.array(z.string()),
  zipSha256: z.string().optional(),
  bytes: z.number().optional(),
  createdAt: z.string(),
  createdBy: z.string(),
  completedAt: z.string().optional(),
  releasedAt: z.string().optional(),
  releasedReason: z.string().optional(),
  delivery: deliverySchema.optional(),
});
const exportResult = z.object({
  status: z.enum(["empty", "written", "already-complete"]),
  bundle: bundleSchema.optional(),
});
const idsBody = z.object({ ids: z.array(z.string().min(1).max(80)).min(1).max(1000) });
const cellSchema = z.object({
  narrative: z.string(),
  locale: z.string(),
  format: z.string(),
  vettedQuotes: z.number(),
  approved: z.number(),
  exported: z.number(),
  empty: z.boolean(),
});

/**
 * Bundles, takedowns, consent withdrawal, redaction terms and coverage: the export and
 * speaker-safety side of the API.
 */
export function bundlesRoutes(app: FastifyInstance, deps: AppDeps) {
  const { store } = deps;
  redactionsRoutes(app, deps);

  apiRoute(app, {
    method: "GET",
    url: "/api/bundles",
    summary: "List bundles, oldest slot first",
    tags: ["bundles"],
    permission: "read",
    schema: {
      querystring: z.object({ campaign: idParam.shape.id.optional() }),
      response: { 200: z.object({ items: z.array(bundleSchema) }) },
    },
    handler: async ({ query }) => {
      const items = (await store.bundles.list(query.campaign ? [`campaign:${query.campaign}`] : [])).sort(
        (a, b) => a.slot.localeCompare(b.slot),
      );
      const delivery = await bundleDeliveries(store, items);
      return { items: items.map((b) => ({ ...b, delivery: delivery.get(b.id) })) };
    },
  });

  apiRoute(app, {
    method: "GET",
    url: "/api/bundles/:id",
    summary: "One bundle",
    tags: ["bundles"],
    permission: "read",
    schema: {
      // Any id shape: one that cannot exist is simply not found (404), not a malformed request.
      params: z.object({ id: z.string().max(200) }),
      response: { 200: bundleSchema },
    },
    handler: async ({ params }) => {
      const b = /^b-[a-z0-9_-]+-\d+$/.test(params.id) ? await store.bundles.get(params.id) : undefined;
      if (!b) throw notFound("bundle", params.id);
      return { ...b.value, delivery: (await bundleDeliveries(store, [b.value])).get(b.value.id) };
    },
  });

  apiRoute(app, {
    method: "POST",
    url: "/api/bundles/:id/redeliver",
    summary:
      "Deliver a complete bundle again: to every target whose delivery failed, or to the targets named",
    tags: ["bundles"],
    permission: "bundles:write",
    schema: {
      params: z.object({ id: z.string().max(200) }),
      body: z.object({ targets: z.array(idParam.shape.id).min(1).max(10).optional() }).optional(),
      response: { 202: z.object({ bundleId: z.string(), targets: z.array(z.string()) }) },
    },
    handler: async ({ params, body, user, reply }) =>
      reply.code(202).send(await redeliver(store, deps.queues.deliver, params.id, user.id, body?.targets)),
  });

  apiRoute(app, {
    method: "POST",
    url: "/api/campaigns/:id/export",
    summary: "Drop the campaign's approved outputs as a bundle now (the scheduled drop's code path)",
    tags: ["bundles"],
    permission: "bundles:write",
    entity: "campaign",
    schema: { params: idParam, response: { 200: exportResult } },
    handler: async ({ params, user, req }) => {
      const r = await dropNow(deps, params.id, user.id, req.log as unknown as Logger);
      return r.status === "empty" ? { status: r.status } : { status: r.status, bundle: r.bundle };
    },
  });

  apiRoute(app, {
    method: "GET",
    url: "/api/campaigns/:id/takedowns",
    summary: "Output ids every later bundle lists for takedown until acknowledged",
    tags: ["bundles"],
    permission: "read",
    entity: "campaign",
    schema: { params: idParam, response: { 200: z.object({ ids: z.array(z.string()) }) } },
    handler: async ({ params }) => ({ ids: await pendingTakedowns(store, params.id) }),
  });

  apiRoute(app, {
    method: "POST",
    url: "/api/campaigns/:id/takedowns/ack",
    summary: "Acknowledge takedowns: later bundles stop listing them",
    tags: ["bundles"],
    permission: "bundles:write",
    entity: "campaign",
    schema: { params: idParam, body: idsBody, response: { 200: z.object({ acknowledged: z.number() }) } },
    handler: async ({ params, body, user }) => ({
      acknowledged: await ackTakedowns(store, params.id, body.ids, user.id),
    }),
  });

  apiRoute(app, {
    method: "GET",
    url: "/api/campaigns/:id/coverage",
    summary: "Vetted quotes, approved and exported outputs by narrative × locale × format",
    tags: ["campaigns"],
    permission: "read",
    entity: "campaign",
    schema: {
      params: idParam,
      response: { 200: z.object({ campaignId: z.string(), cells: z.array(cellSchema) }) },
    },
    handler: async ({ params }) => coverage(store, params.id),
  });

  apiRoute(app, {
    method: "POST",
    url: "/api/speakers/:id/withdraw",
    summary:
      "Record withdrawn consent: unexported outputs are withdrawn at once, dropped ones become takedowns",
    tags: ["speakers"],
    permission: "speakers:consent",
    entity: "speaker",
    schema: {
      params: idParam,
      body: z.object({ reason: cleanText("multiline").max(2000).optional() }).optional(),
      response: { 200: z.object({ withdrawn: z.number(), takedowns: z.number() }) },
    },
    handler: async ({ params, body, user }) => withdrawConsent(store, params.id, user.id, body?.reason),
  });
}
