import { AppError, notFound } from "../domain/errors.js";
import type { Narrative } from "../domain/narrative.js";
import { applyVetting, type Quote, type VettingAction, type VettingState } from "../domain/quote.js";
import type { Store } from "../store/store.js";

export type QuoteFilter = {
  state?: VettingState;
  narrative?: Narrative;
  locale?: string;
  speakerId?: string;
};

export async function listQuotes(store: Store, f: QuoteFilter = {}): Promise<Quote[]> {
  const idx: string[] = [];
  if (f.state) idx.push(`state:${f.state}`);
  if (f.narrative) idx.push(`narrative:${f.narrative}`);
  if (f.locale) idx.push(`locale:${f.locale}`);
  if (f.speakerId) idx.push(`speaker:${f.speakerId}`);
  const quotes = await store.quotes.list(idx);
  return quotes.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
}

export async function getQuote(store: Store, id: string): Promise<Quote> {
  const found = await store.quotes.get(id);
  if (!found) throw notFound("quote", id);
  return found.value;
}

/** One vetting decision; of two people deciding at once, the second gets a conflict, not a silent overwrite. */
export async function changeVetting(
  store: Store,
  id: string,
  action: VettingAction,
  actor: string,
  note?: string,
  now = new Date(),
): Promise<Quote> {
  if (!actor.trim())
    throw new AppError("invalid_input", "who is deciding is required", [
      { field: "as", message: "required" },
    ]);
  const current = await store.quotes.get(id);
  if (!current) throw notFound("quote", id);
  const at = now.toISOString();
  const next = applyVetting(current.value, action, actor, at, note);
  await store.quotes.commit({
    writes: [store.quotes.write(next, current)],
    audit: [
      {
        actor,
        action: `quote.${action}`,
        entity: id,
        from: current.value.vetting.state,
        to: next.vetting.state,
        at,
        detail: next.vetting.note,
      },
    ],
  });
  return next;
}
