import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { getCampaign } from "../../app/campaigns.service.js";
import { retryOutput } from "../../app/retry-outputs.service.js";
import type { OutputState } from "../../domain/output.js";
import { parseOutputCountField } from "../../store/store.js";
import type { HttpDeps } from "../deps.js";
import { requestLanguage } from "../i18n.js";
import type { Pages } from "../review/pages.js";
import { idParam } from "../schemas.js";
import { campaignNav } from "./campaign-nav.js";
import { actionAccess, isHtmx, pageAccess, say, sendPage } from "./common.js";

const progressQuery = z.object({
  n: z.coerce.number().int().min(0).optional(),
  s: z.coerce.number().int().min(0).optional(),
  done: z.enum(["retried"]).optional(),
});
const FAILED_SHOWN = 100;
const WAITING: OutputState[] = ["queued", "rendering"];

/**
 * After "queue content": how far rendering has got for the campaign (every output not queued or
 * rendering is done: rendered, or failed), polled by htmx until nothing waits; failed outputs with their
 * reason and a retry (the API retry route's permission, `queue`).
 */
export function workspaceProgressRoutes(app: FastifyInstance, deps: HttpDeps, pages: Pages) {
  const { store } = deps;

  async function progress(campaignId: string) {
    const counts = await store.outputs.counts(`campaign:${campaignId}`);
    const by: Partial<Record<OutputState, number>> = {};
    for (const [field, n] of Object.entries(counts)) {
      const s = parseOutputCountField(field).status as OutputState;
      by[s] = (by[s] ?? 0) + n;
    }
    const total = Object.values(by).reduce((a, b) => a + b, 0);
    const waiting = WAITING.reduce((a, s) => a + (by[s] ?? 0), 0);
    const failed = by.failed ?? 0;
    const failedOutputs = failed
      ? (await store.outputs.list([`campaign:${campaignId}:status:failed`]))
          .sort((a, b) => a.id.localeCompare(b.id))
          .slice(0, FAILED_SHOWN)
      : [];
    return {
      total,
      finished: total - waiting,
      rendered: total - waiting - failed,
      waiting,
      failed,
      percent: total ? Math.round(((total - waiting) / total) * 100) : 100,
      done: waiting === 0,
      counts: Object.entries(by)
        .filter(([, n]) => n > 0)
        .map(([state, n]) => ({ state: state.replace("_", " "), code: state, n })),
      failedOutputs: failedOutputs.map((o) => ({
        id: o.id,
        quoteId: o.quoteId,
        format: o.format,
        locale: o.locale,
        reason: o.failure?.reason ?? "unknown",
        message: o.failure?.message ?? "",
      })),
      failedMore: Math.max(0, failed - FAILED_SHOWN),
    };
  }

  app.get(
    "/workspace/campaigns/:id/progress",
    {
      config: { ...pageAccess("queue"), entity: "campaign" },
      schema: { params: idParam, querystring: progressQuery },
    },
    async (req, reply) => {
      const c = await getCampaign(store, (req.params as { id: string }).id);
      const q = req.query as z.output<typeof progressQuery>;
      const data = { campaign: { id: c.id, name: c.name }, p: await progress(c.id), csrf: req.session!.csrf };
      if (isHtmx(req)) {
        return reply
          .type("text/html; charset=utf-8")
          .header("cache-control", "no-store")
          .send(pages.render("workspace/_progress", { ...data, lang: requestLanguage(req, pages.i18n) }));
      }
      return sendPage(req, reply, pages, "queue-progress", {
        title: say(req, pages, "progress.title", { name: c.name }),
        ...data,
        campaignNav: campaignNav(req.user!, c.id, "progress"),
        flash:
          q.done === "retried"
            ? say(req, pages, "progress.doneRetried")
            : q.n !== undefined
              ? say(req, pages, "campaigns.doneQueued", { queued: q.n, left: q.s ?? 0 })
              : undefined,
      });
    },
  );

  app.post(
    "/workspace/outputs/:id/retry",
    { config: { ...actionAccess("queue"), entity: "output" }, schema: { params: idParam } },
    async (req, reply) => {
      const out = await retryOutput(
        store,
        deps.queues,
        (req.params as { id: string }).id,
        req.user!.id,
        "retried in the workspace",
      );
      return reply.redirect(`/workspace/campaigns/${out.campaignId}/progress?done=retried`, 303);
    },
  );
}
