import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import {
  createCampaign,
  getCampaign,
  type NewWebhookSecret,
  setPaused,
  updateCampaign,
} from "../../app/campaigns.service.js";
import { queueCampaign } from "../../app/queue.service.js";
import { listQuotes, pageQuotes } from "../../app/quotes.service.js";
import { type Campaign, ENCODINGS, FORMAT_NAMES, TEXT_VARIANTS } from "../../domain/campaign.js";
import { AppError, type ErrorDetail } from "../../domain/errors.js";
import { NARRATIVES } from "../../domain/narrative.js";
import type { Quote } from "../../domain/quote.js";
import type { HttpDeps } from "../deps.js";
import { requestLanguage } from "../i18n.js";
import type { Pages } from "../review/pages.js";
import { idParam } from "../schemas.js";
import { campaignNav } from "./campaign-nav.js";
import { actionAccess, errorMessage, fieldMessage, pageAccess, say, sendPage } from "./common.js";
import { secretPage } from "./delivery.routes.js";
import {
  type DeliveryRow,
  deliveryFormShape,
  deliveryFromRows,
  errorsToRows,
  rowsFromBody,
  rowsFromCampaign,
  rowView,
  withBlankRow,
} from "./delivery-form.js";
import { scheduleQuery, scheduleView } from "./schedule-view.js";

/** The campaign form as a browser posts it: strings, and arrays for repeated checkboxes. */
const field = z.string().max(5000).optional();
const many = z
  .union([z.string().max(200), z.array(z.string().max(200)).max(50)])
  .optional()
  .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]));
const campaignForm = z.object({
  id: field,
  name: field,
  region: field,
  description: field,
  locales: field,
  narratives: many,
  formats: many,
  textVariants: many,
  gradient: field,
  background: field,
  backgroundTo: field,
  text: field,
  accent: field,
  hashtags: field,
  links: field,
  cron: field,
  timeZone: field,
  maxPerDrop: field,
  maxPer7Days: field,
  encoding: field,
  _csrf: z.string().optional(),
  /** A logo uploaded through /workspace/campaigns/logo: its blob: reference, or empty to keep the stored one. */
  logo: z
    .string()
    .regex(/^(blob:[0-9a-f]{64})?$/, "upload the logo again")
    .optional(),
  // Preview only (not part of the campaign).
  quote: field,
  // The Delivery fieldset's rows (d<i>_<field>), see delivery-form.ts.
  ...deliveryFormShape,
});
type CampaignForm = z.output<typeof campaignForm>;

const words = (s: string | undefined) => (s ?? "").split(/[\s,]+/).filter(Boolean);
const int = (s: string | undefined) => (s?.trim() ? Number(s) : undefined);

/** Form fields → the campaign file's shape; the zod schema (the same as the API's and the CLI's) judges it. */
function draftFrom(f: CampaignForm, id: string | undefined, keepLogo?: string, delivery?: unknown[]) {
  return {
    id: id ?? f.id?.trim() ?? "",
    name: f.name ?? "",
    audience: { region: f.region ?? "", description: f.description ?? "" },
    locales: words(f.locales),
    narratives: f.narratives,
    formats: f.formats,
    textVariants: f.textVariants,
    brand: {
      background: f.gradient ? { from: f.background ?? "", to: f.backgroundTo ?? "" } : (f.background ?? ""),
      text: f.text ?? "",
      accent: f.accent ?? "",
      ...(f.logo || keepLogo ? { logo: f.logo || keepLogo } : {}),
    },
    hashtags: words(f.hashtags),
    links: (f.links ?? "").split(/\s+/).filter(Boolean),
    schedule: { cron: (f.cron ?? "").trim(), timeZone: (f.timeZone ?? "").trim() },
    exposure: {
      maxPerSpeakerPerDrop: int(f.maxPerDrop) ?? 3,
      ...(int(f.maxPer7Days) !== undefined ? { maxPerSpeakerPer7Days: int(f.maxPer7Days) } : {}),
    },
    encoding: f.encoding || "png",
    // Only when the form had its Delivery fieldset: otherwise an edit keeps the stored targets.
    ...(delivery ? { delivery } : {}),
  };
}

/** A stored campaign as the form shows it. */
function formFrom(c: Campaign): CampaignForm {
  const gradient = typeof c.brand.background === "object";
  return {
    id: c.id,
    name: c.name,
    region: c.audience.region,
    description: c.audience.description,
    locales: c.locales.join(" "),
    narratives: c.narratives,
    formats: c.formats,
    textVariants: c.textVariants,
    gradient: gradient ? "on" : undefined,
    background: typeof c.brand.background === "object" ? c.brand.background.from : c.brand.background,
    backgroundTo: typeof c.brand.background === "object" ? c.brand.background.to : "#1d3b53",
    text: c.brand.text,
    accent: c.brand.accent,
    hashtags: c.hashtags.join(" "),
    links: c.links.join("\n"),
    cron: c.schedule.cron,
    timeZone: c.schedule.timeZone,
    maxPerDrop: String(c.exposure.maxPerSpeakerPerDrop),
    maxPer7Days: c.exposure.maxPerSpeakerPer7Days ? String(c.exposure.maxPerSpeakerPer7Days) : "",
    encoding: c.encoding,
  };
}

const BLANK: CampaignForm = {
  narratives: [...NARRATIVES],
  formats: ["square"],
  textVariants: [...TEXT_VARIANTS],
  background: "#0f1f2e",
  backgroundTo: "#1d3b53",
  text: "#f5f1e8",
  accent: "#e0a526",
  locales: "en",
  cron: "0 9 * * 1",
  timeZone: "UTC",
  maxPerDrop: "3",
  encoding: "png",
};

const listQuery = z.object({
  done: z.enum(["created", "saved", "paused", "resumed", "queued"]).optional(),
  n: z.coerce.number().int().min(0).optional(),
  s: z.coerce.number().int().min(0).optional(),
});

export function workspaceCampaignRoutes(app: FastifyInstance, deps: HttpDeps, pages: Pages) {
  const { store } = deps;

  async function formPage(
    req: FastifyRequest,
    reply: FastifyReply,
    opts: {
      values: CampaignForm;
      editing?: string;
      errors?: ErrorDetail[];
      message?: string;
      /** The stored logo of the campaign being edited, kept by the preview's drafts. */
      logo?: string;
      /** The Delivery fieldset's rows (stored targets, or as posted). */
      rows: DeliveryRow[];
    },
    status = 200,
  ) {
    const v = opts.values;
    const lang = requestLanguage(req, pages.i18n);
    // The schema's messages are English; another language shows its catalogue's rule for the field.
    const details = (opts.errors ?? []).map((d) => ({ ...d, message: fieldMessage(pages, lang, d) }));
    const errors: Record<string, string> = {};
    for (const d of details) {
      const key = (d.field ?? "campaign").replace(/\.\d+$/, "").replace(/\./g, "_");
      if (errors[key]?.split("; ").includes(d.message)) continue;
      errors[key] = errors[key] ? `${errors[key]}; ${d.message}` : d.message;
    }
    // The preview's quote picker: the first 200 vetted quotes, one indexed page (not every quote stored).
    const vetted = (await pageQuotes(store, { state: "vetted" }, { limit: 200 })).items;
    const checks = <T extends string>(
      all: readonly T[],
      chosen: string[],
      label: (x: T) => string = (x) => x,
    ) => all.map((x) => ({ value: x, label: label(x), checked: chosen.includes(x) }));
    return sendPage(
      req,
      reply,
      pages,
      "campaign-form",
      {
        title: opts.editing
          ? say(req, pages, "campaignForm.titleEdit", { id: opts.editing })
          : say(req, pages, "campaignForm.titleNew"),
        campaign: opts.editing ? { id: opts.editing, name: v.name } : undefined,
        campaignNav: opts.editing ? campaignNav(req.user!, opts.editing, "edit") : [],
        editing: opts.editing,
        action: opts.editing ? `/workspace/campaigns/${opts.editing}` : "/workspace/campaigns",
        v,
        errors,
        hasErrors: Object.keys(errors).length > 0,
        message: opts.message,
        narratives: checks(NARRATIVES, v.narratives, (x) => say(req, pages, `narrative.${x}`)),
        formats: checks(FORMAT_NAMES, v.formats, (x) => say(req, pages, `format.${x}`)),
        textVariants: checks(TEXT_VARIANTS, v.textVariants, (x) => say(req, pages, `variant.${x}`)),
        encodings: ENCODINGS.map((e) => ({ value: e, selected: e === (v.encoding || "png") })),
        quotes: vetted.map((q) => ({ id: q.id, label: `${q.locale} · ${q.text.slice(0, 70)}` })),
        sched: scheduleView(v.cron ?? "", v.timeZone ?? "", { lang, i18n: pages.i18n }),
        logo: opts.logo,
        deliveryRows: withBlankRow(opts.rows).map((r) => rowView(r, details)),
        deliveryError: errors.delivery,
      },
      status,
    );
  }

  app.get(
    "/workspace/campaigns",
    { config: pageAccess("campaigns:write"), schema: { querystring: listQuery } },
    async (req, reply) => {
      const q = req.query as z.output<typeof listQuery>;
      const campaigns = (await store.campaigns.list()).sort((a, b) => a.name.localeCompare(b.name));
      const flash = {
        created: say(req, pages, "campaigns.doneCreated"),
        saved: say(req, pages, "campaigns.doneSaved"),
        paused: say(req, pages, "campaigns.donePaused"),
        resumed: say(req, pages, "campaigns.doneResumed"),
        queued: say(req, pages, "campaigns.doneQueued", { queued: q.n ?? 0, left: q.s ?? 0 }),
      };
      return sendPage(req, reply, pages, "campaigns", {
        title: say(req, pages, "campaigns.title"),
        flash: q.done ? flash[q.done] : undefined,
        campaigns: campaigns.map((c) => ({
          id: c.id,
          name: c.name,
          region: c.audience.region,
          locales: c.locales.join(", "),
          narratives: c.narratives
            .map((n) => say(req, pages, `narrative.${n}`))
            .join(say(req, pages, "layout.listSeparator")),
          formats: c.formats
            .map((f) => say(req, pages, `format.${f}`))
            .join(say(req, pages, "layout.listSeparator")),
          schedule: `${c.schedule.cron} (${c.schedule.timeZone})`,
          paused: c.paused,
        })),
      });
    },
  );

  app.get("/workspace/campaigns/new", { config: pageAccess("campaigns:write") }, async (req, reply) =>
    formPage(req, reply, { values: BLANK, rows: rowsFromCampaign({}) }),
  );

  app.get(
    "/workspace/campaigns/:id/edit",
    { config: { ...pageAccess("campaigns:write"), entity: "campaign" }, schema: { params: idParam } },
    async (req, reply) => {
      const c = await getCampaign(store, (req.params as { id: string }).id);
      return formPage(req, reply, {
        values: formFrom(c),
        editing: c.id,
        logo: c.brand.logo,
        rows: rowsFromCampaign(c),
      });
    },
  );

  /** Field errors come from the same zod schema as the API and the CLI, shown beside their fields. */
  async function save(req: FastifyRequest, reply: FastifyReply, editing?: string) {
    const f = req.body as CampaignForm;
    const posted = rowsFromBody(req.body as Record<string, unknown>);
    const { delivery, rowOf } = posted ? deliveryFromRows(posted) : { delivery: undefined, rowOf: [] };
    const rows = async () => posted ?? rowsFromCampaign(editing ? await getCampaign(store, editing) : {});
    let newSecrets: NewWebhookSecret[] = [];
    let savedId = editing ?? "";
    try {
      if (editing) {
        const prev = await getCampaign(store, editing);
        const saved = await updateCampaign(
          store,
          draftFrom(f, editing, prev.brand.logo, delivery),
          req.user!.id,
          "form",
        );
        newSecrets = "newSecrets" in saved ? saved.newSecrets : [];
      } else {
        const r = await createCampaign(
          store,
          draftFrom(f, undefined, undefined, delivery),
          req.user!.id,
          "form",
        );
        if (!r.created)
          return formPage(
            req,
            reply,
            {
              values: f,
              message: say(req, pages, "campaignForm.exists", { id: r.campaign.id }),
              rows: await rows(),
            },
            409,
          );
        newSecrets = r.newSecrets;
        savedId = r.campaign.id;
      }
    } catch (err) {
      if (!(err instanceof AppError) || !["invalid_input", "conflict"].includes(err.code)) throw err;
      return formPage(
        req,
        reply,
        {
          values: f,
          editing,
          errors: errorsToRows(err.details, rowOf),
          message: errorMessage(req, pages, err),
          rows: await rows(),
        },
        err.code === "conflict" ? 409 : 400,
      );
    }
    // A new webhook secret is shown once, on the page that answers this post (never in a URL).
    if (newSecrets.length) {
      return secretPage(req, reply, pages, {
        campaignId: savedId,
        campaignName: f.name ?? savedId,
        secrets: newSecrets,
      });
    }
    return reply.redirect(`/workspace/campaigns?done=${editing ? "saved" : "created"}`, 303);
  }

  app.post(
    "/workspace/campaigns",
    { config: actionAccess("campaigns:write"), schema: { body: campaignForm } },
    async (req, reply) => save(req, reply),
  );
  app.post(
    "/workspace/campaigns/:id",
    {
      config: { ...actionAccess("campaigns:write"), entity: "campaign" },
      schema: { params: idParam, body: campaignForm },
    },
    async (req, reply) => save(req, reply, (req.params as { id: string }).id),
  );

  for (const [action, paused] of [
    ["pause", true],
    ["resume", false],
  ] as const) {
    app.post(
      `/workspace/campaigns/:id/${action}`,
      { config: { ...actionAccess("campaigns:write"), entity: "campaign" }, schema: { params: idParam } },
      async (req, reply) => {
        await setPaused(store, (req.params as { id: string }).id, paused, req.user!.id);
        return reply.redirect(`/workspace/campaigns?done=${paused ? "paused" : "resumed"}`, 303);
      },
    );
  }

  /** What "queue content" would do, before it does it: quotes × formats, and each quote left out with why. */
  app.get(
    "/workspace/campaigns/:id/queue",
    { config: { ...pageAccess("queue"), entity: "campaign" }, schema: { params: idParam } },
    async (req, reply) => {
      const c = await getCampaign(store, (req.params as { id: string }).id);
      const [quotes, speakers] = await Promise.all([listQuotes(store), store.speakers.list()]);
      const withdrawn = new Set(speakers.filter((s) => s.consent?.state === "withdrawn").map((s) => s.id));
      const known = new Set(speakers.map((s) => s.id));
      // Why a quote is left out, in the page's language (state names through the catalogue too).
      const reasonOf = (q: Quote) =>
        !c.narratives.includes(q.narrative)
          ? say(req, pages, "reason.narrative", { narrative: say(req, pages, `narrative.${q.narrative}`) })
          : !c.locales.includes(q.locale)
            ? say(req, pages, "reason.locale", { locale: q.locale })
            : q.vetting.state !== "vetted"
              ? say(req, pages, "reason.notVetted", {
                  state: say(req, pages, `state.quote.${q.vetting.state}`),
                })
              : !known.has(q.speakerId)
                ? say(req, pages, "reason.noSpeaker", { speaker: q.speakerId })
                : withdrawn.has(q.speakerId)
                  ? say(req, pages, "reason.withdrawn")
                  : undefined;
      const judged = quotes.map((q) => ({ q, reason: reasonOf(q) }));
      const included = judged.filter((j) => !j.reason);
      const excluded = judged.filter((j) => j.reason);
      return sendPage(req, reply, pages, "queue-plan", {
        title: say(req, pages, "plan.title", { name: c.name }),
        campaignNav: campaignNav(req.user!, c.id, "queue"),
        campaign: {
          id: c.id,
          name: c.name,
          formats: c.formats
            .map((f) => say(req, pages, `format.${f}`))
            .join(say(req, pages, "layout.listSeparator")),
        },
        included: included.length,
        outputs: included.length * c.formats.length,
        excludedTotal: excluded.length,
        excluded: excluded
          .slice(0, 200)
          .map((j) => ({ id: j.q.id, text: j.q.text.slice(0, 120), reason: j.reason })),
        excludedMore: Math.max(0, excluded.length - 200),
      });
    },
  );

  app.post(
    "/workspace/campaigns/:id/queue",
    { config: { ...actionAccess("queue"), entity: "campaign" }, schema: { params: idParam } },
    async (req, reply) => {
      const r = await queueCampaign(store, deps.queues, {
        campaignId: (req.params as { id: string }).id,
        actor: req.user!.id,
        templateVersion: deps.templates.version,
      });
      req.log.info({ created: r.created, skipped: r.skipped.length }, "queued in the workspace");
      return reply.redirect(
        `/workspace/campaigns/${r.campaignId}/progress?n=${r.created}&s=${r.skipped.length}`,
        303,
      );
    },
  );

  /** The schedule field's companion: the cron in plain words and its next five drops, in two zones. */
  app.get(
    "/workspace/campaigns/schedule",
    { config: actionAccess("campaigns:write"), schema: { querystring: scheduleQuery } },
    async (req, reply) => {
      const q = req.query as z.output<typeof scheduleQuery>;
      const lang = requestLanguage(req, pages.i18n);
      const html = pages.render("workspace/_schedule", {
        ...scheduleView(q.cron ?? "", q.timeZone ?? "", { viewerZone: q.viewerZone, lang, i18n: pages.i18n }),
        lang,
      });
      return reply.type("text/html; charset=utf-8").header("cache-control", "no-store").send(html);
    },
  );
}
