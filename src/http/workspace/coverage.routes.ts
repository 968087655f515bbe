import type { FastifyInstance } from "fastify";
import { getCampaign } from "../../app/campaigns.service.js";
import { coverage } from "../../app/coverage.service.js";
import { NARRATIVE_LABELS } from "../../domain/narrative.js";
import type { HttpDeps } from "../deps.js";
import { requestLanguage } from "../i18n.js";
import type { Pages } from "../review/pages.js";
import { idParam } from "../schemas.js";
import { campaignNav } from "./campaign-nav.js";
import { pageAccess, say, sendPage } from "./common.js";

/**
 * A campaign's coverage (the API's GET /api/campaigns/:id/coverage, same permission) as a heatmap:
 * one table per format, narratives × locales, shaded by how much material a cell has; a cell with none
 * (no vetted quote, no approved or exported output) is hatched and says "none".
 */
export function workspaceCoverageRoutes(app: FastifyInstance, deps: HttpDeps, pages: Pages) {
  app.get(
    "/workspace/campaigns/:id/coverage",
    { config: { ...pageAccess("read"), entity: "campaign" }, schema: { params: idParam } },
    async (req, reply) => {
      const c = await getCampaign(deps.store, (req.params as { id: string }).id);
      const cov = await coverage(deps.store, c.id);
      const weight = (x: { vettedQuotes: number; approved: number; exported: number }) =>
        x.vettedQuotes + x.approved + x.exported;
      const max = Math.max(1, ...cov.cells.map(weight));
      const level = (w: number) => (w === 0 ? 0 : w >= (2 * max) / 3 ? 3 : w >= max / 3 ? 2 : 1);
      const empty = cov.cells.filter((x) => x.empty).length;
      const lang = requestLanguage(req, pages.i18n);
      const tables = cov.formats.map((format) => ({
        format,
        locales: cov.locales,
        rows: cov.narratives.map((narrative) => ({
          narrative,
          label: pages.i18n.t(lang, `narrative.${narrative}`, {
            defaultValue: NARRATIVE_LABELS[narrative] ?? narrative,
          }),
          cells: cov.locales.map((locale) => {
            const cell = cov.cells.find(
              (x) => x.narrative === narrative && x.locale === locale && x.format === format,
            );
            const w = cell ? weight(cell) : 0;
            return {
              locale,
              empty: !cell || cell.empty,
              level: level(w),
              vetted: cell?.vettedQuotes ?? 0,
              approved: cell?.approved ?? 0,
              exported: cell?.exported ?? 0,
            };
          }),
        })),
      }));
      return sendPage(req, reply, pages, "coverage", {
        title: say(req, pages, "coverage.title", { name: c.name }),
        campaign: { id: c.id, name: c.name },
        campaignNav: campaignNav(req.user!, c.id, "coverage"),
        tables,
        emptyCells: empty,
        totalCells: cov.cells.length,
      });
    },
  );
}
