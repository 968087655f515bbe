import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import {
  addRedaction,
  listRedactions,
  removeRedaction,
  withdrawalPreview,
  withdrawConsent,
} from "../../app/safety.service.js";
import { cleanText } from "../../domain/clean-text.js";
import { AppError, notFound } from "../../domain/errors.js";
import type { Speaker } from "../../domain/speaker.js";
import { can } from "../../domain/user.js";
import type { HttpDeps } from "../deps.js";
import type { Pages } from "../review/pages.js";
import { idParam } from "../schemas.js";
import { actionAccess, errorMessage, pageAccess, say, sendPage } from "./common.js";

const listQuery = z.object({
  done: z.enum(["withdrawn", "redaction-added", "redaction-exists", "redaction-removed"]).optional(),
  w: z.coerce.number().int().min(0).optional(),
  t: z.coerce.number().int().min(0).optional(),
});

const withdrawBody = z.object({
  reason: cleanText("multiline").trim().max(2000).optional(),
  _csrf: z.string().optional(),
});

const csrfBody = z.object({ _csrf: z.string().optional() }).optional();

const redactionBody = z.object({
  term: z.string().max(200),
  speaker: z.string().max(64).optional(),
  _csrf: z.string().optional(),
});

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** What the speakers page shows of a speaker: the publishable fields only, never `private`. */
function speakerView(s: Speaker, exported: number) {
  const c = s.consent;
  return {
    id: s.id,
    pseudonym: s.pseudonym,
    description: s.description,
    attribution: s.attribution,
    publicName: s.attribution === "named" ? s.publicName : undefined,
    consent: c?.state ?? "none",
    consentScope: c ? [...c.scope.locales, ...c.scope.channels].join(", ") || undefined : undefined,
    // Consent with an empty scope covers nothing: the page says so in its language.
    consentNowhere: c !== undefined && c.scope.locales.length + c.scope.channels.length === 0,
    consentExpires: c?.expiresAt,
    withdrawnAt: c?.withdrawnAt,
    canWithdraw: c?.state !== "withdrawn",
    exportedText: plural(exported, "output", "outputs"),
    exported,
    ownTerms: s.redactionTerms.length,
  };
}

export function workspaceSpeakerRoutes(app: FastifyInstance, deps: HttpDeps, pages: Pages) {
  const { store } = deps;

  async function listPage(
    req: FastifyRequest,
    reply: FastifyReply,
    extra: Record<string, unknown> = {},
    status = 200,
  ) {
    const q = (req.query ?? {}) as z.output<typeof listQuery>;
    const [speakers, terms] = await Promise.all([store.speakers.list(), listRedactions(store)]);
    speakers.sort((a, b) => a.pseudonym.localeCompare(b.pseudonym) || a.id.localeCompare(b.id));
    // Exposure so far: outputs of each speaker that left in a bundle (two indexes intersected in Redis).
    const exported = await Promise.all(
      speakers.map((s) => store.outputs.count([`speaker:${s.id}`, "status:exported"])),
    );
    const flash =
      q.done === "withdrawn"
        ? say(req, pages, "speakers.doneWithdrawn", { withdrawn: q.w ?? 0, takedowns: q.t ?? 0 })
        : q.done === "redaction-added"
          ? say(req, pages, "speakers.doneTermAdded")
          : q.done === "redaction-exists"
            ? say(req, pages, "speakers.doneTermExists")
            : q.done === "redaction-removed"
              ? say(req, pages, "speakers.doneTermRemoved")
              : undefined;
    const mayReveal = can(req.user!, "speakers:private");
    return sendPage(
      req,
      reply,
      pages,
      "speakers",
      {
        title: say(req, pages, "speakers.title"),
        speakers: speakers.map((s, i) => ({ ...speakerView(s, exported[i] ?? 0), mayReveal })),
        terms: terms.map((t) => ({
          id: t.id,
          term: t.term,
          scope: t.speakerId ? (t.speakerPseudonym ?? t.speakerId) : "everyone",
          createdBy: t.createdBy,
          createdAt: t.createdAt.slice(0, 10),
        })),
        speakerOptions: speakers.map((s) => ({ value: s.id, label: s.pseudonym })),
        flash,
        ...extra,
      },
      status,
    );
  }

  app.get(
    "/workspace/speakers",
    { config: pageAccess("speakers:consent"), schema: { querystring: listQuery } },
    async (req, reply) => listPage(req, reply),
  );

  /** The confirmation: what a withdrawal would do now, computed without changing anything. */
  app.get(
    "/workspace/speakers/:id/withdraw",
    { config: { ...pageAccess("speakers:consent"), entity: "speaker" }, schema: { params: idParam } },
    async (req, reply) => {
      const p = await withdrawalPreview(store, (req.params as { id: string }).id);
      return sendPage(req, reply, pages, "withdraw", {
        title: say(req, pages, "withdraw.heading", { name: p.speaker.pseudonym }),
        speaker: { id: p.speaker.id, pseudonym: p.speaker.pseudonym },
        alreadyWithdrawn: p.speaker.consent?.state === "withdrawn",
        withdrawnText: plural(p.withdrawn, "output", "outputs"),
        withdrawn: p.withdrawn,
        takedowns: p.takedowns,
        takedownsText: plural(p.takedowns, "takedown", "takedowns"),
        takedownsByCampaign: p.takedownsByCampaign,
      });
    },
  );

  app.post(
    "/workspace/speakers/:id/withdraw",
    {
      config: { ...actionAccess("speakers:consent"), entity: "speaker" },
      schema: { params: idParam, body: withdrawBody },
    },
    async (req, reply) => {
      const { id } = req.params as { id: string };
      const body = req.body as z.output<typeof withdrawBody>;
      const r = await withdrawConsent(store, id, req.user!.id, body.reason || undefined);
      req.log.info(r, "consent withdrawn in the workspace");
      return reply.redirect(`/workspace/speakers?done=withdrawn&w=${r.withdrawn}&t=${r.takedowns}`, 303);
    },
  );

  app.post(
    "/workspace/redactions",
    { config: actionAccess("speakers:consent"), schema: { body: redactionBody } },
    async (req, reply) => {
      const body = req.body as z.output<typeof redactionBody>;
      try {
        const r = await addRedaction(store, body.term, req.user!.id, body.speaker || undefined);
        req.log.info({ redactionId: r.id, created: r.created }, "redaction term in the workspace");
        return reply.redirect(
          `/workspace/speakers?done=${r.created ? "redaction-added" : "redaction-exists"}`,
          303,
        );
      } catch (err) {
        if (!(err instanceof AppError) || !["invalid_input", "not_found"].includes(err.code)) throw err;
        const termError = errorMessage(req, pages, err);
        return listPage(req, reply, { termError, termValue: body.term }, 400);
      }
    },
  );
  /** The confirmation: which term, for whom, and what removing it means. */
  app.get(
    "/workspace/redactions/:id/remove",
    { config: pageAccess("speakers:consent"), schema: { params: idParam } },
    async (req, reply) => {
      const { id } = req.params as { id: string };
      const found = await store.redactions.get(id);
      if (!found) throw notFound("redaction term", id);
      const t = found.value;
      const speaker = t.speakerId ? await store.speakers.get(t.speakerId) : undefined;
      return sendPage(req, reply, pages, "redaction-remove", {
        title: say(req, pages, "redactionRemove.title"),
        term: { id: t.id, text: t.term },
        scope: t.speakerId
          ? (speaker?.value.pseudonym ?? t.speakerId)
          : say(req, pages, "redactionRemove.everyone"),
      });
    },
  );

  app.post(
    "/workspace/redactions/:id/remove",
    { config: actionAccess("speakers:consent"), schema: { params: idParam, body: csrfBody } },
    async (req, reply) => {
      const r = await removeRedaction(store, (req.params as { id: string }).id, req.user!.id);
      req.log.info({ redactionId: r.id }, "redaction term removed in the workspace");
      return reply.redirect("/workspace/speakers?done=redaction-removed", 303);
    },
  );

  /**
   * Private fields, for admins only, after an explicit action: a POST (CSRF-checked, never
   * prefetched or cached) that writes `speaker.private_read` to the audit trail before showing them.
   */
  app.post(
    "/workspace/speakers/:id/reveal",
    {
      config: { ...actionAccess("speakers:private"), entity: "speaker" },
      schema: { params: idParam, body: csrfBody },
    },
    async (req, reply) => {
      const { id } = req.params as { id: string };
      const found = await store.speakers.get(id);
      if (!found) throw notFound("speaker", id);
      const s = found.value;
      const at = new Date().toISOString();
      await store.audit.append({
        actor: req.user!.id,
        action: "speaker.private_read",
        entity: id,
        at,
        detail: "workspace reveal",
      });
      req.log.info("private speaker fields revealed in the workspace");
      return sendPage(req, reply, pages, "speaker-private", {
        title: say(req, pages, "speakerPrivate.title", { name: s.pseudonym }),
        speaker: { id: s.id, pseudonym: s.pseudonym },
        revealedAt: at,
        realName: s.private?.realName,
        contact: s.private?.contact,
        notes: s.private?.notes,
        evidence: s.consent?.evidence,
        ownTerms: s.redactionTerms,
      });
    },
  );
}
