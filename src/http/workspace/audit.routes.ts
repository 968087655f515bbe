import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { AuditRecord } from "../../store/audit.store.js";
import type { HttpDeps } from "../deps.js";
import type { Pages } from "../review/pages.js";
import { pageAccess, say, sendPage } from "./common.js";

const PAGE = 50;
const day = z
  .string()
  .regex(/^(\d{4}-\d{2}-\d{2})?$/, "a date as YYYY-MM-DD")
  .optional();
const auditQuery = z.object({
  entity: z.string().max(200).optional(),
  actor: z.string().max(200).optional(),
  action: z.string().max(100).optional(),
  from: day,
  to: day,
  page: z.coerce.number().int().min(1).max(100_000).optional(),
});
type AuditQuery = z.output<typeof auditQuery>;

/**
 * Where an entry's entity lives in the workspace, from its action's kind (the audit keeps ids only);
 * `key` is the catalogue key of the link's label.
 */
function entityLink(e: AuditRecord): { href: string; label: string; key: string } | undefined {
  const kind = e.action.split(".")[0];
  if (kind === "campaign" || e.action === "bundle.nothing_to_drop")
    return {
      href: `/workspace/campaigns/${encodeURIComponent(e.entity)}/edit`,
      label: "campaign",
      key: "audit.linkCampaign",
    };
  if (kind === "bundle") {
    const m = /^b-(.+)-\d+$/.exec(e.entity);
    return m
      ? {
          href: `/workspace/campaigns/${encodeURIComponent(m[1]!)}/drops`,
          label: "drops",
          key: "audit.linkDrops",
        }
      : undefined;
  }
  if (kind === "output")
    return { href: `/review/cards/${encodeURIComponent(e.entity)}`, label: "card", key: "audit.linkCard" };
  if (kind === "quote")
    return {
      href: `/workspace/quotes?q=${encodeURIComponent(e.entity)}`,
      label: "quote",
      key: "audit.linkQuote",
    };
  if (kind === "speaker")
    return { href: "/workspace/speakers", label: "speakers", key: "audit.linkSpeakers" };
  return undefined;
}

const qs = (q: AuditQuery, page?: number) => {
  const p = new URLSearchParams();
  for (const k of ["entity", "actor", "action", "from", "to"] as const) if (q[k]) p.set(k, q[k]!);
  if (page && page > 1) p.set("page", String(page));
  const s = p.toString();
  return s ? `?${s}` : "";
};

/**
 * The audit trail (the API's GET /api/audit, same permission), newest first, filtered by entity, actor,
 * action and date, 50 a page; each entry links to its entity's page and to the entity's own history.
 */
export function workspaceAuditRoutes(app: FastifyInstance, deps: HttpDeps, pages: Pages) {
  app.get(
    "/workspace/audit",
    { config: pageAccess("read"), schema: { querystring: auditQuery } },
    async (req, reply) => {
      const q = req.query as AuditQuery;
      const all = await deps.store.audit.list({
        entity: q.entity?.trim() || undefined,
        limit: Number.MAX_SAFE_INTEGER,
      });
      const actors = [...new Set(all.map((e) => e.actor))].sort();
      const actions = [...new Set(all.map((e) => e.action))].sort();
      const matching = all
        .filter(
          (e) =>
            (!q.actor || e.actor === q.actor) &&
            (!q.action || e.action === q.action) &&
            (!q.from || e.at.slice(0, 10) >= q.from) &&
            (!q.to || e.at.slice(0, 10) <= q.to),
        )
        .reverse();
      const pages_ = Math.max(1, Math.ceil(matching.length / PAGE));
      const page = Math.min(q.page ?? 1, pages_);
      const shown = matching.slice((page - 1) * PAGE, page * PAGE);
      return sendPage(req, reply, pages, "audit", {
        title: say(req, pages, "audit.title"),
        q,
        actors: actors.map((a) => ({ value: a, selected: a === q.actor })),
        actions: actions.map((a) => ({ value: a, selected: a === q.action })),
        total: matching.length,
        first: matching.length ? (page - 1) * PAGE + 1 : 0,
        last: (page - 1) * PAGE + shown.length,
        page,
        pages: pages_,
        prev: page > 1 ? `/workspace/audit${qs(q, page - 1)}` : undefined,
        next: page < pages_ ? `/workspace/audit${qs(q, page + 1)}` : undefined,
        entries: shown.map((e) => ({
          ...e,
          history: `/workspace/audit${qs({ entity: e.entity })}`,
          link: entityLink(e),
        })),
      });
    },
  );
}
