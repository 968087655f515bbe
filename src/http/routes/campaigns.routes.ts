import type { FastifyInstance } from "fastify";
import { z } from "zod";
import {
  createCampaign,
  getCampaign,
  parseCampaign,
  rotateWebhookSecret,
  setPaused,
  updateCampaign,
} from "../../app/campaigns.service.js";
import { queueCampaign } from "../../app/queue.service.js";
import { campaignSchema } from "../../domain/campaign.js";
import { AppError } from "../../domain/errors.js";
import type { AppDeps } from "../deps.js";
import { uploadedLogo } from "../logo-upload.js";
import { apiRoute } from "../route.js";
import { idParam } from "../schemas.js";

/** The campaign as the service validates it; the body schema only insists on an object. */
const campaignBody = z.record(z.string(), z.unknown());

/** A webhook target's signing secret: in the answer that creates or rotates it, and never again. */
const newSecret = z.object({ target: z.string(), url: z.string(), secret: z.string() });
const savedCampaign = campaignSchema.extend({ newSecrets: z.array(newSecret).optional() });

const queueBody = z.object({ quoteIds: z.array(idParam.shape.id).max(1000).optional() }).optional();
const queueResult = z.object({
  campaignId: z.string(),
  outputIds: z.array(z.string()),
  created: z.number(),
  existing: z.number(),
  jobsAdded: z.number(),
});

export function campaignsRoutes(app: FastifyInstance, deps: AppDeps) {
  const { store } = deps;

  apiRoute(app, {
    method: "GET",
    url: "/api/campaigns",
    summary: "List campaigns",
    tags: ["campaigns"],
    permission: "read",
    schema: { response: { 200: z.object({ items: z.array(campaignSchema) }) } },
    handler: async () => ({
      items: (await store.campaigns.list()).sort((a, b) => a.id.localeCompare(b.id)),
    }),
  });

  apiRoute(app, {
    method: "GET",
    url: "/api/campaigns/:id",
    summary: "One campaign",
    tags: ["campaigns"],
    permission: "read",
    entity: "campaign",
    schema: { params: idParam, response: { 200: campaignSchema } },
    handler: async ({ params }) => getCampaign(store, params.id),
  });

  apiRoute(app, {
    method: "POST",
    url: "/api/campaigns",
    summary: "Create a campaign (201; 200 when the same campaign exists already)",
    tags: ["campaigns"],
    permission: "campaigns:write",
    schema: { body: campaignBody, response: { 200: savedCampaign, 201: savedCampaign } },
    handler: async ({ body, user, reply, req }) => {
      parseCampaign(body, "body"); // refused before its logo is stored, so a bad campaign writes nothing
      const raw = await uploadedLogo(store, body);
      const { campaign, created, newSecrets } = await createCampaign(store, raw, user.id, "body");
      req.log.info({ campaignId: campaign.id, created }, "campaign saved");
      return reply.code(created ? 201 : 200).send(newSecrets.length ? { ...campaign, newSecrets } : campaign);
    },
  });

  apiRoute(app, {
    method: "PUT",
    url: "/api/campaigns/:id",
    summary: "Replace a campaign's settings (the id in the body, if any, must match)",
    tags: ["campaigns"],
    permission: "campaigns:write",
    entity: "campaign",
    schema: { params: idParam, body: campaignBody, response: { 200: savedCampaign } },
    handler: async ({ params, body, user }) => {
      if (body.id !== undefined && body.id !== params.id) {
        throw new AppError(
          "invalid_input",
          `body id ${String(body.id)} does not match the URL's ${params.id}`,
          [{ where: "body", field: "id", message: "must match the URL" }],
        );
      }
      parseCampaign({ ...body, id: params.id }, "body"); // as above: validate, then store the logo
      const raw = await uploadedLogo(store, { ...body, id: params.id });
      return updateCampaign(store, raw, user.id, "body");
    },
  });

  apiRoute(app, {
    method: "POST",
    url: "/api/campaigns/:id/delivery/:target/rotate-secret",
    summary:
      "A new signing secret for a webhook target, shown in this answer only; the old one signs beside it for 24 h",
    tags: ["campaigns"],
    permission: "campaigns:write",
    entity: "campaign",
    schema: {
      params: z.object({ id: idParam.shape.id, target: idParam.shape.id }),
      response: { 200: newSecret },
    },
    handler: async ({ params, user, reply }) => {
      reply.header("cache-control", "no-store");
      return rotateWebhookSecret(store, params.id, params.target, user.id);
    },
  });

  for (const [action, paused] of [
    ["pause", true],
    ["resume", false],
  ] as const) {
    apiRoute(app, {
      method: "POST",
      url: `/api/campaigns/:id/${action}`,
      summary: paused ? "Pause a campaign's scheduled drops" : "Resume a paused campaign",
      tags: ["campaigns"],
      permission: "campaigns:write",
      entity: "campaign",
      schema: { params: idParam, response: { 200: campaignSchema } },
      handler: async ({ params, user }) => setPaused(store, params.id, paused, user.id),
    });
  }

  apiRoute(app, {
    method: "POST",
    url: "/api/campaigns/:id/queue",
    summary: "Queue renders for every vetted matching quote × format; the caller is recorded as queuedBy",
    tags: ["campaigns"],
    permission: "queue",
    entity: "campaign",
    schema: { params: idParam, body: queueBody, response: { 202: queueResult } },
    handler: async ({ params, body, user, reply, req }) => {
      const result = await queueCampaign(store, deps.queues, {
        campaignId: params.id,
        actor: user.id,
        templateVersion: deps.templates.version,
        quoteIds: body?.quoteIds,
      });
      req.log.info({ created: result.created, jobsAdded: result.jobsAdded }, "campaign queued");
      return reply.code(202).send(result);
    },
  });
}
