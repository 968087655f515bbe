import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { previewCard } from "../../app/preview.service.js";
import { FORMAT_NAMES, type Format } from "../../domain/campaign.js";
import type { AppDeps } from "../deps.js";
import { apiRoute } from "../route.js";
import { idParam } from "../schemas.js";

const previewBody = z.object({
  campaign: z.record(z.string(), z.unknown()),
  quoteId: idParam.shape.id,
  format: z.enum(FORMAT_NAMES as [Format, ...Format[]], {
    error: () => `must be one of ${FORMAT_NAMES.join(", ")}`,
  }),
  locale: z
    .string()
    .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, "a language tag such as en or ar")
    .optional(),
});

/**
 * Live preview: an unsaved campaign draft, a quote, a format and a locale in; the card out, made by the
 * workers' own code. Staff call it with a token, or from the campaign page with their session and the
 * CSRF token; nothing is stored.
 */
export function previewRoutes(app: FastifyInstance, deps: AppDeps) {
  apiRoute(app, {
    method: "POST",
    url: "/api/campaigns/preview",
    summary:
      "Render one card for an unsaved campaign draft (nothing stored): 400 names the draft's bad fields; 409 `details[0].field` names why the card cannot be made (cannot_fit, redaction, ...)",
    tags: ["campaigns"],
    permission: "campaigns:write",
    auth: "any",
    produces: "image/png",
    schema: { body: previewBody },
    handler: async ({ body, user, reply }) => {
      const { card, quote } = await previewCard(deps, {
        draft: body.campaign,
        quoteId: body.quoteId,
        format: body.format,
        locale: body.locale,
        actor: user.id,
      });
      return reply
        .type(`image/${card.encoding}`)
        .header("cache-control", "no-store")
        .header("x-font-size", String(card.fontSize))
        .header("x-quote-id", quote.id)
        .send(card.bytes);
    },
  });
}
