import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { getCampaign } from "../../app/campaigns.service.js";
import { bundleDeliveries } from "../../app/deliver.service.js";
import { planDrop } from "../../app/export/reserve.js";
import { ackTakedowns, pendingTakedowns } from "../../app/safety.service.js";
import { can } from "../../domain/user.js";
import type { Logger } from "../../logger.js";
import { nextSlots } from "../../schedule/slots.js";
import type { HttpDeps } from "../deps.js";
import { dropNow } from "../drop-now.js";
import { requestLanguage } from "../i18n.js";
import type { Pages } from "../review/pages.js";
import { idParam } from "../schemas.js";
import { campaignNav } from "./campaign-nav.js";
import { actionAccess, pageAccess, say, sendPage } from "./common.js";
import { inZone } from "./schedule-view.js";

const DAY_MS = 24 * 3600 * 1000;
const SHOWN = 60;

const dropsQuery = z.object({
  done: z.enum(["dropped", "empty", "already", "acknowledged", "redelivered"]).optional(),
  b: z.string().max(200).optional(),
  t: z.string().max(80).optional(),
  n: z.coerce.number().int().min(0).optional(),
});
const many = z
  .union([z.string().max(200), z.array(z.string().max(200)).max(1000)])
  .optional()
  .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]));
const ackForm = z.object({ ids: many, _csrf: z.string().optional() });

/**
 * One campaign's drops: the next four weeks of slots, what a drop now would hold (the export's own
 * choice, read only: approved, held back by the exposure cap, still in review), past bundles with their
 * download, the takedown list with acknowledge, and "drop now" (the scheduled drop's code path, as
 * `export --now` and POST /api/campaigns/:id/export). Same permissions as the API: reading for staff
 * and reviewers, dropping and acknowledging for `bundles:write`.
 */
export function workspaceDropsRoutes(app: FastifyInstance, deps: HttpDeps, pages: Pages) {
  const { store } = deps;

  app.get(
    "/workspace/campaigns/:id/drops",
    {
      config: { ...pageAccess("read"), entity: "campaign" },
      schema: { params: idParam, querystring: dropsQuery },
    },
    async (req, reply) => {
      const c = await getCampaign(store, (req.params as { id: string }).id);
      const q = req.query as z.output<typeof dropsQuery>;
      const now = new Date();
      // At most SHOWN + 1 slots are computed: a cron every second would have millions in four weeks.
      const horizon = now.getTime() + 28 * DAY_MS;
      const slots = nextSlots(c.schedule.cron, c.schedule.timeZone, now, SHOWN + 1).filter(
        (at) => at.getTime() <= horizon,
      );
      const [plan, inReview, bundles, takedownIds, speakers] = await Promise.all([
        planDrop(store, c, now),
        store.outputs.count([`campaign:${c.id}:status:in_review`]),
        store.bundles.list([`campaign:${c.id}`]),
        pendingTakedowns(store, c.id),
        store.speakers.list(),
      ]);
      const pseudonym = new Map(speakers.map((s) => [s.id, s.pseudonym]));
      const held = new Map<string, number>();
      for (const d of plan.deferred) held.set(d.speakerId, (held.get(d.speakerId) ?? 0) + 1);
      const takedowns = (await store.outputs.getMany(takedownIds)).map((v) => v.value);
      const deliveries = await bundleDeliveries(store, bundles);
      const flash = {
        dropped: say(req, pages, "drops.doneDropped", { bundle: q.b ?? "" }),
        empty: say(req, pages, "drops.doneEmpty"),
        already: say(req, pages, "drops.doneAlready", { bundle: q.b ?? "" }),
        acknowledged: say(req, pages, "drops.doneAcknowledged", { count: q.n ?? 0 }),
        redelivered: say(req, pages, "delivery.doneRedelivered", { bundle: q.b ?? "", target: q.t ?? "" }),
      };
      const lang = requestLanguage(req, pages.i18n);
      return sendPage(req, reply, pages, "drops", {
        title: say(req, pages, "drops.title", { name: c.name }),
        campaign: { id: c.id, name: c.name, zone: c.schedule.timeZone, paused: c.paused },
        campaignNav: campaignNav(req.user!, c.id, "drops"),
        canWrite: can(req.user!, "bundles:write"),
        flash: q.done ? flash[q.done] : undefined,
        upcoming: slots
          .slice(0, SHOWN)
          .map((at) => ({ iso: at.toISOString(), local: inZone(at, c.schedule.timeZone, lang) })),
        upcomingMore: slots.length > SHOWN,
        next: {
          selected: plan.selected.length,
          deferred: plan.deferred.length,
          inReview,
          outputs: plan.selected.slice(0, SHOWN).map((v) => ({
            id: v.value.id,
            speaker: pseudonym.get(v.value.speakerId) ?? v.value.speakerId,
            format: v.value.format,
            locale: v.value.locale,
          })),
          more: Math.max(0, plan.selected.length - SHOWN),
          heldBack: [...held].map(([speakerId, count]) => ({
            speaker: pseudonym.get(speakerId) ?? speakerId,
            count,
          })),
          takedowns: takedownIds.length,
        },
        bundles: bundles
          .sort((a, b) => b.slot.localeCompare(a.slot))
          .map((b) => ({
            id: b.id,
            slot: b.slot,
            local: inZone(new Date(b.slot), c.schedule.timeZone, lang),
            status: b.status,
            complete: b.status === "complete",
            outputs: b.outputIds.length,
            takedowns: b.takedowns.length,
            kb: b.bytes !== undefined ? Math.max(1, Math.round(b.bytes / 1024)) : undefined,
            sha: b.zipSha256,
            // Per s3 or webhook target: delivered / retrying / failed, attempts, the last error.
            delivery: (deliveries.get(b.id)?.targets ?? []).map((t) => {
              const last = t.attempts[t.attempts.length - 1];
              return {
                target: t.target,
                type: t.type,
                statusKey: `delivery.status_${t.status}`,
                status: t.status,
                failed: t.status === "failed",
                attempts: t.attempts.length,
                error: last?.status === "delivered" ? undefined : last?.error,
              };
            }),
          })),
        takedowns: takedownIds.map((id) => {
          const o = takedowns.find((t) => t.id === id);
          return {
            id,
            speaker: o ? (pseudonym.get(o.speakerId) ?? o.speakerId) : "",
            format: o?.format,
            locale: o?.locale,
            bundleId: o?.bundleId,
            withdrawnAt: o?.withdrawnAt,
          };
        }),
      });
    },
  );

  app.post(
    "/workspace/campaigns/:id/drop",
    { config: { ...actionAccess("bundles:write"), entity: "campaign" }, schema: { params: idParam } },
    async (req, reply) => {
      const id = (req.params as { id: string }).id;
      const r = await dropNow(deps, id, req.user!.id, req.log as unknown as Logger);
      req.log.info({ status: r.status }, "dropped from the workspace");
      const done = r.status === "written" ? "dropped" : r.status === "empty" ? "empty" : "already";
      const b = r.status === "empty" ? "" : `&b=${encodeURIComponent(r.bundle.id)}`;
      return reply.redirect(`/workspace/campaigns/${id}/drops?done=${done}${b}`, 303);
    },
  );

  app.post(
    "/workspace/campaigns/:id/takedowns/ack",
    {
      config: { ...actionAccess("bundles:write"), entity: "campaign" },
      schema: { params: idParam, body: ackForm },
    },
    async (req, reply) => {
      const id = (req.params as { id: string }).id;
      const { ids } = req.body as z.output<typeof ackForm>;
      const n = ids.length ? await ackTakedowns(store, id, ids, req.user!.id) : 0;
      return reply.redirect(`/workspace/campaigns/${id}/drops?done=acknowledged&n=${n}`, 303);
    },
  );
}
