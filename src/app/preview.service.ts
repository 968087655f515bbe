import type { Campaign, Format } from "../domain/campaign.js";
import { AppError, notFound } from "../domain/errors.js";
import type { Quote } from "../domain/quote.js";
import type { Store } from "../store/store.js";
import { parseCampaign } from "./campaigns.service.js";
import type { RenderDeps } from "./render.service.js";
import { composeOutput, RenderFailure } from "./render.service.js";

export type PreviewRequest = {
  /** The campaign as its file would say it, unsaved; a draft may leave out what the card does not show. */
  draft: Record<string, unknown>;
  quoteId: string;
  format: Format;
  /** The card's language: the quote itself when it is in it, else its translation into it. */
  locale?: string;
  actor: string;
};

/**
 * The quote a card in `locale` shows for `quote`: the quote itself, or a vetted translation of the same
 * original (or of the quote) into that locale. Read only.
 */
async function quoteInLocale(store: Store, quote: Quote, locale: string): Promise<Quote> {
  if (quote.locale === locale) return quote;
  const original = quote.translationOf ?? quote.id;
  const family = await store.quotes.list([`speaker:${quote.speakerId}`, `locale:${locale}`]);
  const found = family
    .filter((q) => q.id === original || q.translationOf === original)
    .sort((a, b) => Number(b.vetting.state === "vetted") - Number(a.vetting.state === "vetted"))[0];
  if (!found) throw new AppError("not_found", `quote ${quote.id} has no translation in ${locale}`);
  return found;
}

/**
 * A card for an unsaved campaign draft, made by the workers' own code (composeOutput: attribution,
 * text limits, redaction terms, fit), writing nothing. A draft the campaign schema refuses is
 * invalid_input with a detail per field; a card that cannot be made is invalid_state whose one detail
 * names the render failure reason in `field` (`cannot_fit`, `redaction`, ...), so a page can tell
 * "this quote cannot fit" from other refusals.
 */
export async function previewCard(deps: Pick<RenderDeps, "store" | "templates">, req: PreviewRequest) {
  const { store } = deps;
  const draft = { ...req.draft };
  // A form being filled in: fields the card does not show need not be there yet.
  const blank = (v: unknown) => typeof v !== "string" || v.trim() === "";
  if (blank(draft.id)) draft.id = "preview";
  if (blank(draft.name)) draft.name = "Untitled";
  const audience = (typeof draft.audience === "object" && draft.audience) || {};
  const region = (audience as { region?: unknown }).region;
  draft.audience = { ...audience, region: blank(region) ? "unset" : region };
  const input = parseCampaign(draft, "campaign");
  const found = await store.quotes.get(req.quoteId);
  if (!found) throw notFound("quote", req.quoteId);
  const quote = await quoteInLocale(store, found.value, req.locale ?? found.value.locale);
  const speaker = await store.speakers.get(quote.speakerId);
  if (!speaker) throw notFound("speaker", quote.speakerId);
  const now = new Date().toISOString();
  const campaign: Campaign = { ...input, createdAt: now, createdBy: req.actor, updatedAt: now };
  try {
    const { card } = await composeOutput(deps, {
      quote,
      speaker: speaker.value,
      campaign,
      format: req.format,
    });
    return { card, quote };
  } catch (err) {
    if (err instanceof RenderFailure) {
      throw new AppError("invalid_state", `cannot render this card: ${err.reason}: ${err.message}`, [
        { where: "card", field: err.reason, message: err.message },
      ]);
    }
    throw err;
  }
}
