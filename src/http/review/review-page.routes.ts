import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { coverage } from "../../app/coverage.service.js";
import { getOutput } from "../../app/review.service.js";
import type { Campaign } from "../../domain/campaign.js";
import { AppError } from "../../domain/errors.js";
import type { Output } from "../../domain/output.js";
import type { Quote } from "../../domain/quote.js";
import { can } from "../../domain/user.js";
import { parseOutputCountField } from "../../store/store.js";
import { cardStore, readCard } from "../card-file.js";
import type { HttpDeps } from "../deps.js";
import { requestLanguage } from "../i18n.js";
import { idParam } from "../schemas.js";
import { loadAssets, type Pages } from "./pages.js";
import { cardView, coveragePanel, filterOptions } from "./view-model.js";

const MAX_CARDS = 120;
/** Outputs of the same quote looked at for earlier decisions. */
const SIBLINGS = 8;

const pageQuery = z.object({
  campaign: z.string().max(64).optional(),
  locale: z.string().max(35).optional(),
  narrative: z.string().max(32).optional(),
  approved: z.coerce.number().int().min(0).optional(),
  failed: z.coerce.number().int().min(0).optional(),
});

const session = (permission: "read") => ({
  access: { auth: "session" as const, permission },
  loginRedirect: true,
});

export function reviewPageRoutes(app: FastifyInstance, deps: HttpDeps, pages: Pages) {
  const { store } = deps;
  const assets = loadAssets();

  app.get("/", { config: { access: { auth: "public" } } }, (_req, reply) => reply.redirect("/review", 302));

  app.get(
    "/review/assets/:file",
    {
      config: { access: { auth: "public" } },
      schema: { params: z.object({ file: z.enum(["review.css", "review.js"]) }) },
    },
    async (req, reply) => {
      const asset = assets.get((req.params as { file: string }).file)!;
      return reply.type(asset.type).header("cache-control", "no-cache").send(asset.body);
    },
  );

  app.get("/review", { config: session("read"), schema: { querystring: pageQuery } }, async (req, reply) => {
    const q = req.query as z.output<typeof pageQuery>;
    const user = req.user!;
    const campaigns = new Map<string, Campaign>((await store.campaigns.list()).map((c) => [c.id, c]));
    // What waits for review, per campaign × narrative × locale × format, from the store's counters:
    // filter choices and the total cost the number of campaigns and cells, not of outputs.
    const waiting = (
      await Promise.all(
        [...campaigns.keys()].map(async (campaignId) =>
          Object.entries(await store.outputs.counts(`campaign:${campaignId}`)).map(([field, n]) => ({
            campaignId,
            ...parseOutputCountField(field),
            n,
          })),
        ),
      )
    )
      .flat()
      .filter((c) => c.status === "in_review" && c.n > 0);
    const total = waiting
      .filter(
        (c) =>
          (!q.campaign || c.campaignId === q.campaign) &&
          (!q.locale || c.locale === q.locale) &&
          (!q.narrative || c.narrative === q.narrative),
      )
      .reduce((sum, c) => sum + c.n, 0);
    // One page of cards, oldest first, through the sorted indexes.
    const index = q.campaign ? [`campaign:${q.campaign}:status:in_review`] : ["status:in_review"];
    if (q.locale) index.push(`locale:${q.locale}`);
    if (q.narrative) index.push(`narrative:${q.narrative}`);
    const shown = (await store.outputs.page(index, { limit: MAX_CARDS })).items
      .map((v) => v.value)
      .filter((o) => o.status === "in_review");
    const quoteIds = [...new Set(shown.map((o) => o.quoteId))];
    const quotes = new Map<string, Quote>(
      (await store.quotes.getMany(quoteIds)).map((v) => [v.value.id, v.value]),
    );
    const siblings = new Map<string, Output[]>(
      // Earlier decisions come from the quote's latest outputs, not from every one it ever had.
      await Promise.all(
        quoteIds.map(
          async (id) =>
            [id, (await store.outputs.latest(`quote:${id}`, SIBLINGS)).map((v) => v.value)] as const,
        ),
      ),
    );
    const canReview = can(user, "review");
    const ctx = { campaigns, quotes, siblings, user, canReview };
    const lang = requestLanguage(req, pages.i18n);
    const t = (key: string, values?: Record<string, unknown>) => pages.i18n.t(lang, key, values);
    const flash =
      q.approved !== undefined
        ? q.failed
          ? t("review.flashSomeFailed", { approved: q.approved, count: q.failed })
          : t("review.flashApproved", { count: q.approved })
        : undefined;
    const html = pages.render("review", {
      lang,
      here: req.url,
      title: t("review.title"),
      user: { id: user.id, roles: user.roles.join(", ") },
      csrf: req.session!.csrf,
      canReview,
      cards: shown.map((o) => cardView(o, ctx)),
      shown: shown.length,
      total,
      single: total === 1,
      truncated: total > shown.length,
      filtered: Boolean(q.campaign || q.locale || q.narrative),
      filters: filterOptions(waiting, campaigns, q),
      coverage: await Promise.all(
        [...campaigns.keys()]
          .filter((id) => !q.campaign || id === q.campaign)
          .map(async (id) => coveragePanel(await coverage(store, id), campaigns.get(id)!.name)),
      ),
      flash,
    });
    return reply.type("text/html; charset=utf-8").header("cache-control", "no-store").send(html);
  });

  app.get(
    "/review/cards/:id",
    { config: { ...session("read"), loginRedirect: false, entity: "output" }, schema: { params: idParam } },
    async (req, reply) => {
      const output = await getOutput(store, (req.params as { id: string }).id);
      if (output.status === "queued" || output.status === "rendering") {
        throw new AppError("not_found", `output ${output.id} is not rendered yet`);
      }
      const card = await readCard(cardStore(deps), output);
      if (card.etag) reply.header("etag", card.etag);
      return reply.type(card.type).header("cache-control", "private, max-age=300").send(card.bytes);
    },
  );
}
