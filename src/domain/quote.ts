import { z } from "zod";
import { checkText, cleanText } from "./clean-text.js";
import { AppError } from "./errors.js";
import { idSchema } from "./ids.js";
import { localeSchema } from "./locale.js";
import { narrativeSchema } from "./narrative.js";

import { VETTING_STATES } from "./vocabulary.js";

export { VETTING_STATES };
export type VettingState = (typeof VETTING_STATES)[number];

export const sourceSchema = z.object({
  title: cleanText("line").trim().min(1, "must not be empty").max(300),
  publisher: cleanText("line").trim().min(1, "must not be empty").max(200),
  url: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
  publishedAt: z.iso.date({ error: "must be a date as YYYY-MM-DD" }),
});
export type Source = z.infer<typeof sourceSchema>;

export const vettingSchema = z.object({
  state: z.enum(VETTING_STATES),
  by: z.string().optional(),
  at: z.string().optional(),
  note: cleanText("multiline").max(2000).optional(),
});

export const quoteImportSchema = z.object({
  id: idSchema,
  speakerId: idSchema,
  text: cleanText("multiline").trim().min(1, "must not be empty").max(1000, "at most 1,000 characters"),
  locale: localeSchema,
  narrative: narrativeSchema,
  source: sourceSchema,
  translationOf: idSchema.optional(),
});
export type QuoteImport = z.infer<typeof quoteImportSchema>;

export const quoteSchema = quoteImportSchema.extend({
  vetting: vettingSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Quote = z.infer<typeof quoteSchema>;

export type VettingAction = "vet" | "reject" | "retire";

const TRANSITIONS: Record<VettingAction, { from: VettingState[]; to: VettingState }> = {
  vet: { from: ["pending"], to: "vetted" },
  reject: { from: ["pending"], to: "rejected" },
  retire: { from: ["vetted"], to: "retired" },
};

/** pending → vetted | rejected, vetted → retired; anything else is refused with the current state. */
export function applyVetting(
  quote: Quote,
  action: VettingAction,
  actor: string,
  at: string,
  note?: string,
): Quote {
  const rule = TRANSITIONS[action];
  if (!rule.from.includes(quote.vetting.state)) {
    throw new AppError(
      "invalid_state",
      `cannot ${action} quote ${quote.id}: it is ${quote.vetting.state} (allowed from ${rule.from.join(", ")})`,
    );
  }
  if (action === "reject" && !note?.trim()) {
    throw new AppError("invalid_input", "rejecting a quote needs a note saying why", [
      { field: "note", message: "required" },
    ]);
  }
  const cleanNote = note === undefined ? undefined : checkText(note, "multiline", "note").trim();
  return {
    ...quote,
    vetting: { state: rule.to, by: actor, at, note: cleanNote || undefined },
    updatedAt: at,
  };
}

/** What changes the published words: an edit to these re-opens vetting. */
export function contentChanged(a: QuoteImport, b: QuoteImport): boolean {
  return a.text !== b.text || a.locale !== b.locale || a.speakerId !== b.speakerId;
}
