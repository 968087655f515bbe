import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { type NewWebhookSecret, rotateWebhookSecret } from "../../app/campaigns.service.js";
import { redeliver } from "../../app/deliver.service.js";
import { notFound } from "../../domain/errors.js";
import type { HttpDeps } from "../deps.js";
import type { Pages } from "../review/pages.js";
import { idParam } from "../schemas.js";
import { campaignNav } from "./campaign-nav.js";
import { actionAccess, sendPage } from "./common.js";

/**
 * A webhook target's signing secret, on the page that answers the post which made it (a campaign saved
 * with a new webhook target, or "Rotate secret"): sendPage's `no-store`, never in a URL or the log, and
 * never shown again (only the delivery store keeps it).
 */
export function secretPage(
  req: FastifyRequest,
  reply: FastifyReply,
  pages: Pages,
  data: { campaignId: string; campaignName: string; secrets: NewWebhookSecret[]; rotated?: boolean },
) {
  req.log.info(
    { campaignId: data.campaignId, targets: data.secrets.map((s) => s.target) },
    "webhook secret shown",
  );
  return sendPage(req, reply, pages, "delivery-secret", {
    title: data.campaignName,
    campaign: { id: data.campaignId, name: data.campaignName },
    campaignNav: campaignNav(req.user!, data.campaignId, "edit"),
    rotated: data.rotated,
    secrets: data.secrets.map((s, n) => ({ ...s, n })),
  });
}

const targetParams = z.object({ id: idParam.shape.id, target: idParam.shape.id });
const redeliverForm = z.object({ target: idParam.shape.id, _csrf: z.string().optional() });

/**
 * Delivery in the workspace: rotating a webhook target's secret (campaigns:write, as
 * POST /api/campaigns/:id/delivery/:target/rotate-secret) and redelivering a bundle to a failed target
 * (bundles:write, as POST /api/bundles/:id/redeliver). Session and CSRF token, like every workspace form.
 */
export function workspaceDeliveryRoutes(app: FastifyInstance, deps: HttpDeps, pages: Pages) {
  const { store } = deps;

  app.post(
    "/workspace/campaigns/:id/delivery/:target/rotate-secret",
    { config: { ...actionAccess("campaigns:write"), entity: "campaign" }, schema: { params: targetParams } },
    async (req, reply) => {
      const { id, target } = req.params as z.output<typeof targetParams>;
      const secret = await rotateWebhookSecret(store, id, target, req.user!.id);
      const c = await store.campaigns.get(id);
      return secretPage(req, reply, pages, {
        campaignId: id,
        campaignName: c?.value.name ?? id,
        secrets: [secret],
        rotated: true,
      });
    },
  );

  app.post(
    "/workspace/campaigns/:id/bundles/:bundle/redeliver",
    {
      config: { ...actionAccess("bundles:write"), entity: "campaign" },
      schema: {
        params: z.object({ id: idParam.shape.id, bundle: z.string().max(200) }),
        body: redeliverForm,
      },
    },
    async (req, reply) => {
      const { id, bundle } = req.params as { id: string; bundle: string };
      const { target } = req.body as z.output<typeof redeliverForm>;
      const b = /^b-[a-z0-9_-]+-\d+$/.test(bundle) ? await store.bundles.get(bundle) : undefined;
      if (!b || b.value.campaignId !== id) throw notFound("bundle", bundle);
      await redeliver(store, deps.queues.deliver, bundle, req.user!.id, [target]);
      const q = new URLSearchParams({ done: "redelivered", b: bundle, t: target });
      return reply.redirect(`/workspace/campaigns/${id}/drops?${q}`, 303);
    },
  );
}
