import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { checkQuotes, checkSpeakers, importQuotes, importSpeakers } from "../../app/import.service.js";
import { changeVetting, pageQuotes, TEXT_SEARCH_WINDOW } from "../../app/quotes.service.js";
import { cleanText } from "../../domain/clean-text.js";
import { AppError, type ErrorDetail } from "../../domain/errors.js";
import { directionOf, languageOf } from "../../domain/locale.js";
import { NARRATIVE_LABELS, NARRATIVES } from "../../domain/narrative.js";
import { type Quote, VETTING_STATES, type VettingAction } from "../../domain/quote.js";
import { can } from "../../domain/user.js";
import { readRecords } from "../../import/read-records.js";
import type { IndexPosition } from "../../store/entity.repo.js";
import type { HttpDeps } from "../deps.js";
import { requestLanguage } from "../i18n.js";
import type { Pages } from "../review/pages.js";
import { idParam } from "../schemas.js";
import { actionAccess, errorMessage, fieldMessage, isHtmx, pageAccess, say, sendPage } from "./common.js";

const PAGE_SIZE = 50;

const listQuery = z.object({
  state: z.enum(VETTING_STATES).or(z.literal("")).optional(),
  narrative: z.enum(NARRATIVES).or(z.literal("")).optional(),
  locale: z.string().max(35).optional(),
  speaker: z.string().max(64).optional(),
  q: z.string().max(200).optional(),
  /** Where the page starts: `sortKey|id` of the last quote of the page before (from the Next link). */
  after: z
    .string()
    .max(200)
    .regex(/^[^|]{1,64}\|[a-z0-9][a-z0-9_-]{0,63}$/, "not a list position")
    .optional(),
  /** The page's number, for display only: the cursor says where it starts. */
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  done: z.enum(["vet", "reject", "retire", "imported"]).optional(),
  n: z.coerce.number().int().min(0).optional(),
});
type ListQuery = z.output<typeof listQuery>;

const importBody = z.object({
  kind: z.enum(["quotes", "speakers"]).default("quotes"),
  file: z
    .string()
    .regex(/^[\w. -]{1,128}\.(csv|json)$/i, "a file name ending in .csv or .json (it picks the parser)"),
  content: z.string().min(1, "choose a file first").max(5_000_000, "at most 5 MB"),
  _csrf: z.string().optional(),
});
type ImportBody = z.output<typeof importBody>;

const vettingBody = z.object({
  note: cleanText("multiline").max(2000).optional(),
  back: z.string().max(1000).optional(),
  _csrf: z.string().optional(),
});

/** Catalogue keys (src/templates/pages/i18n) of the notices after an action. */
const DONE: Record<NonNullable<ListQuery["done"]>, string> = {
  vet: "quotes.doneVet",
  reject: "quotes.doneReject",
  retire: "quotes.doneRetire",
  imported: "quotes.doneImported",
};

/** Only back into the quotes list, with its filters: never somewhere else. */
const safeBack = (back: string | undefined) => (back && /^\?[\w%=&.+\-~]*$/.test(back) ? back : "");

/** The list's query string without the one-off notices, to come back to after an action. */
function listSearch(q: ListQuery, at: { after?: string; page: number } = q) {
  const p = new URLSearchParams();
  for (const k of ["state", "narrative", "locale", "speaker", "q"] as const) if (q[k]) p.set(k, String(q[k]));
  if (at.after) p.set("after", at.after);
  if (at.page > 1) p.set("page", String(at.page));
  const s = p.toString();
  return s ? `?${s}` : "";
}

const positionOf = (after: string): IndexPosition => {
  const at = after.indexOf("|");
  return { sortKey: after.slice(0, at), id: after.slice(at + 1) };
};

/** Rows of the uploaded file with their errors beside them, as the check shows them. */
function checkView(body: ImportBody, details: ErrorDetail[]) {
  const read = readRecords(Buffer.from(body.content, "utf8"), body.file);
  const lineOf = (where: string | undefined) => Number(/:(\d+)$/.exec(where ?? "")?.[1] ?? 0);
  const byLine = new Map<number, ErrorDetail[]>();
  for (const d of details) byLine.set(lineOf(d.where), [...(byLine.get(lineOf(d.where)) ?? []), d]);
  if (!read.ok) return { fileErrors: read.errors, rows: [], columns: [] };
  const csv = read.format === "csv";
  const columns = csv ? (read.columns ?? []) : ["record"];
  const headerLine = csv ? 1 : -1;
  const rows = read.records
    .filter((r) => byLine.has(r.line))
    .map((r) => {
      const errors = byLine.get(r.line) ?? [];
      const cells = csv
        ? columns.map((c) => ({
            column: c,
            value: String(r.value[c] ?? ""),
            bad: errors.some((e) => e.field === c || e.field?.startsWith(`${c}[`)),
          }))
        : [{ column: "record", value: JSON.stringify(r.value).slice(0, 300), bad: true }];
      return { line: r.line, cells, errors };
    });
  const shownLines = new Set(rows.map((r) => r.line));
  const fileErrors = details.filter(
    (d) => lineOf(d.where) === headerLine || !shownLines.has(lineOf(d.where)),
  );
  return { fileErrors, rows, columns };
}

export function workspaceQuoteRoutes(app: FastifyInstance, deps: HttpDeps, pages: Pages) {
  const { store } = deps;

  async function listPage(
    req: FastifyRequest,
    reply: FastifyReply,
    q: ListQuery,
    extra: Record<string, unknown> = {},
    status = 200,
  ) {
    const after = q.after ? positionOf(q.after) : undefined;
    const page = after ? q.page : 1;
    const [found, speakers] = await Promise.all([
      pageQuotes(
        store,
        {
          state: q.state || undefined,
          narrative: q.narrative || undefined,
          locale: q.locale || undefined,
          speakerId: q.speaker || undefined,
          text: q.q,
        },
        { after, limit: PAGE_SIZE },
      ),
      store.speakers.list(),
    ]);
    const shown = found.items;
    const searching = found.total === undefined;
    // Each translation is shown with its original beside it.
    const originalIds = [...new Set(shown.map((x) => x.translationOf).filter((t): t is string => !!t))];
    const originals = new Map<string, Quote>(
      (await store.quotes.getMany(originalIds)).map((v) => [v.value.id, v.value]),
    );
    const pseudonyms = new Map(speakers.map((s) => [s.id, s.pseudonym]));
    const back = listSearch(q, { after: q.after, page });
    const view = (x: Quote) => ({
      id: x.id,
      text: x.text,
      lang: languageOf(x.locale),
      dir: directionOf(x.locale),
      locale: x.locale,
      narrative: say(req, pages, `narrative.${x.narrative}`),
      speaker: pseudonyms.get(x.speakerId) ?? x.speakerId,
      state: x.vetting.state,
      vettingBy: x.vetting.by,
      vettingNote: x.vetting.note,
      publisher: x.source.publisher,
      title: x.source.title,
      publishedAt: x.source.publishedAt,
      url: x.source.url && /^https?:\/\//i.test(x.source.url) ? x.source.url : undefined,
      original: x.translationOf
        ? (() => {
            const o = originals.get(x.translationOf);
            return o
              ? {
                  id: o.id,
                  text: o.text,
                  lang: languageOf(o.locale),
                  dir: directionOf(o.locale),
                  state: o.vetting.state,
                }
              : { id: x.translationOf, missing: true };
          })()
        : undefined,
      canVet: x.vetting.state === "pending",
      canRetire: x.vetting.state === "vetted",
      back,
    });
    const nextLink = found.next
      ? `/workspace/quotes${listSearch(q, { after: `${found.next.sortKey}|${found.next.id}`, page: page + 1 })}`
      : undefined;
    const total = found.total ?? 0;
    const opts = <T extends string>(
      values: readonly T[],
      selected: string | undefined,
      label: (v: T) => string = (v) => v,
    ) => values.map((v) => ({ value: v, label: label(v), selected: v === selected }));
    return sendPage(
      req,
      reply,
      pages,
      "quotes",
      {
        title: say(req, pages, "quotes.title"),
        quotes: shown.map(view),
        total,
        from: shown.length ? (page - 1) * PAGE_SIZE + 1 : 0,
        to: (page - 1) * PAGE_SIZE + shown.length,
        page,
        pagesTotal: searching ? undefined : Math.max(1, Math.ceil(total / PAGE_SIZE)),
        first: after ? `/workspace/quotes${listSearch(q, { page: 1 })}` : undefined,
        next: nextLink,
        search: searching
          ? {
              matches: shown.length,
              scanned: found.scanned ?? 0,
              window: TEXT_SEARCH_WINDOW,
              further: found.windowFull,
              fromStart: !after,
            }
          : undefined,
        filters: {
          states: opts(VETTING_STATES, q.state, (v) => say(req, pages, `state.quote.${v}`)),
          narratives: opts(NARRATIVES, q.narrative, (v) =>
            pages.i18n.t(requestLanguage(req, pages.i18n), `narrative.${v}`, {
              defaultValue: NARRATIVE_LABELS[v],
            }),
          ),
          speakers: speakers
            .map((s) => ({ value: s.id, label: `${s.pseudonym} (${s.id})`, selected: s.id === q.speaker }))
            .sort((a, b) => a.label.localeCompare(b.label)),
          locale: q.locale ?? "",
          q: q.q ?? "",
        },
        flash: q.done
          ? q.done === "imported"
            ? say(req, pages, DONE.imported, { count: q.n ?? 0 })
            : say(req, pages, DONE[q.done])
          : undefined,
        ...extra,
      },
      status,
    );
  }

  app.get("/workspace", { config: pageAccess("read") }, async (req, reply) =>
    reply.redirect(can(req.user!, "quotes:write") ? "/workspace/quotes" : "/review", 303),
  );

  app.get(
    "/workspace/quotes",
    { config: pageAccess("quotes:write"), schema: { querystring: listQuery } },
    async (req, reply) => listPage(req, reply, req.query as ListQuery),
  );

  /** The check: every rule of the import, nothing stored; errors beside their rows and fields. */
  async function check(req: FastifyRequest, body: ImportBody) {
    try {
      const counts =
        body.kind === "speakers"
          ? await checkSpeakers(store, Buffer.from(body.content, "utf8"), body.file)
          : await checkQuotes(store, Buffer.from(body.content, "utf8"), body.file);
      return { ok: true as const, counts };
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== "invalid_input") throw err;
      // The import's rules speak English; another language says each field's rule from the catalogue.
      const lang = requestLanguage(req, pages.i18n);
      const details = err.details.map((d) => ({
        ...d,
        message: fieldMessage(pages, lang, d, "importError"),
      }));
      // (The page adds its own full stop after the message.)
      const message = errorMessage(req, pages, err).replace(/\.$/, "");
      return { ok: false as const, message, ...checkView(body, details) };
    }
  }

  const checkData = (body: ImportBody, result: Awaited<ReturnType<typeof check>>) => ({
    check: {
      ...result,
      kind: body.kind,
      isSpeakers: body.kind === "speakers",
      file: body.file,
      content: body.content,
      importable: result.ok ? result.counts.created + result.counts.updated : 0,
      noun: body.kind === "speakers" ? "speakers" : "quotes",
    },
  });

  app.post(
    "/workspace/quotes/check",
    { config: actionAccess("quotes:write"), schema: { body: importBody } },
    async (req, reply) => {
      const body = req.body as ImportBody;
      const result = await check(req, body);
      const data = checkData(body, result);
      if (isHtmx(req)) {
        return reply.type("text/html; charset=utf-8").send(
          pages.render("workspace/_check", {
            ...data,
            lang: requestLanguage(req, pages.i18n),
            csrf: req.session!.csrf,
          }),
        );
      }
      return listPage(req, reply, listQuery.parse({}), data, result.ok ? 200 : 400);
    },
  );

  app.post(
    "/workspace/quotes/import",
    { config: actionAccess("quotes:write"), schema: { body: importBody } },
    async (req, reply) => {
      const body = req.body as ImportBody;
      const run = body.kind === "speakers" ? importSpeakers : importQuotes;
      try {
        const s = await run(store, Buffer.from(body.content, "utf8"), body.file, req.user!.id);
        req.log.info({ ...s, kind: body.kind }, "imported in the workspace");
        return reply.redirect(`/workspace/quotes?done=imported&n=${s.created + s.updated}`, 303);
      } catch (err) {
        // Something changed between the check and the import (a speaker removed, say): check again.
        if (!(err instanceof AppError) || err.code !== "invalid_input") throw err;
        return listPage(req, reply, listQuery.parse({}), checkData(body, await check(req, body)), 400);
      }
    },
  );

  const vetting = (action: VettingAction) => async (req: FastifyRequest, reply: FastifyReply) => {
    const { id } = req.params as { id: string };
    const body = req.body as z.output<typeof vettingBody>;
    const back = safeBack(body.back);
    try {
      await changeVetting(store, id, action, req.user!.id, body.note?.trim() || undefined);
    } catch (err) {
      if (!(err instanceof AppError) || !["invalid_input", "invalid_state", "conflict"].includes(err.code))
        throw err;
      const q = listQuery.parse(Object.fromEntries(new URLSearchParams(back)));
      return listPage(
        req,
        reply,
        q,
        { error: errorMessage(req, pages, err), errorId: id },
        err.code === "invalid_input" ? 400 : 409,
      );
    }
    req.log.info({ action }, `quote ${action} in the workspace`);
    return reply.redirect(`/workspace/quotes${back}${back ? "&" : "?"}done=${action}`, 303);
  };
  for (const action of ["vet", "reject", "retire"] as const) {
    app.post(
      `/workspace/quotes/:id/${action}`,
      {
        config: { ...actionAccess("quotes:write"), entity: "quote" },
        schema: { params: idParam, body: vettingBody },
      },
      vetting(action),
    );
  }
}
