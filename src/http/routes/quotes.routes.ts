import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { importQuotes, importSpeakers } from "../../app/import.service.js";
import { changeVetting, getQuote, listQuotePage } from "../../app/quotes.service.js";
import { cleanText } from "../../domain/clean-text.js";
import { NARRATIVES } from "../../domain/narrative.js";
import type { VettingAction } from "../../domain/quote.js";
import { VETTING_STATES } from "../../domain/quote.js";
import type { AppDeps } from "../deps.js";
import { apiRoute } from "../route.js";
import { idParam, importSummary, quoteView } from "../schemas.js";

const quoteFilter = z.object({
  state: z.enum(VETTING_STATES).optional(),
  narrative: z.enum(NARRATIVES).optional(),
  locale: z.string().min(1).max(35).optional(),
  speaker: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
});

const quotePage = z.object({
  items: z.array(quoteView),
  nextCursor: z.string().optional().describe("the next page's cursor; absent on the last page"),
  total: z.number().describe("quotes matching the filters"),
});

const importBody = z.object({
  file: z
    .string()
    .regex(/^[\w.-]{1,128}\.(csv|json)$/i, "a file name ending in .csv or .json (it picks the parser)"),
  content: z.string().min(1, "must not be empty").max(5_000_000, "at most 5 MB"),
  kind: z.enum(["quotes", "speakers"]).default("quotes"),
});

const vettingBody = z.object({ note: cleanText("multiline").max(2000).optional() }).optional();

const ACTIONS: Record<VettingAction, string> = {
  vet: "Vet a pending quote (only vetted quotes render)",
  reject: "Reject a pending quote (a note saying why is required)",
  retire: "Retire a vetted quote",
};

export function quotesRoutes(app: FastifyInstance, deps: AppDeps) {
  apiRoute(app, {
    method: "GET",
    url: "/api/quotes",
    summary:
      "List quotes, oldest first, filtered by vetting state, narrative, locale or speaker; paginated by cursor",
    tags: ["quotes"],
    permission: "read",
    schema: { querystring: quoteFilter, response: { 200: quotePage } },
    // One page through the sorted quote indexes: the cost grows with the page, not the store.
    handler: async ({ query }) =>
      listQuotePage(
        deps.store,
        {
          state: query.state,
          narrative: query.narrative,
          locale: query.locale,
          speakerId: query.speaker,
        },
        { limit: query.limit, cursor: query.cursor },
      ),
  });

  apiRoute(app, {
    method: "GET",
    url: "/api/quotes/:id",
    summary: "One quote",
    tags: ["quotes"],
    permission: "read",
    entity: "quote",
    schema: { params: idParam, response: { 200: quoteView } },
    handler: async ({ params }) => getQuote(deps.store, params.id),
  });

  apiRoute(app, {
    method: "POST",
    url: "/api/quotes/import",
    summary: "Import quotes (or speakers, with kind=speakers) from CSV or JSON text; all or nothing",
    tags: ["quotes"],
    permission: "quotes:write",
    schema: { body: importBody, response: { 200: importSummary } },
    handler: async ({ body, user, req }) => {
      const bytes = Buffer.from(body.content, "utf8");
      const run = body.kind === "speakers" ? importSpeakers : importQuotes;
      const summary = await run(deps.store, bytes, body.file, user.id);
      req.log.info({ ...summary, kind: body.kind }, "imported");
      return summary;
    },
  });

  for (const action of Object.keys(ACTIONS) as VettingAction[]) {
    apiRoute(app, {
      method: "POST",
      url: `/api/quotes/:id/${action}`,
      summary: ACTIONS[action],
      tags: ["quotes"],
      permission: "quotes:write",
      entity: "quote",
      schema: { params: idParam, body: vettingBody, response: { 200: quoteView } },
      handler: async ({ params, body, user, req }) => {
        const quote = await changeVetting(deps.store, params.id, action, user.id, body?.note);
        req.log.info({ vetting: quote.vetting.state }, `quote ${action}`);
        return quote;
      },
    });
  }
}
