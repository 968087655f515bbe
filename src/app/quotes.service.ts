import { AppError, notFound } from "../domain/errors.js";
import type { Narrative } from "../domain/narrative.js";
import { applyVetting, type Quote, type VettingAction, type VettingState } from "../domain/quote.js";
import type { IndexPosition } from "../store/entity.repo.js";
import { quoteSortKey, type Store } from "../store/store.js";

export type QuoteFilter = {
  state?: VettingState;
  narrative?: Narrative;
  locale?: string;
  speakerId?: string;
};

function indexesOf(f: QuoteFilter): string[] {
  const idx: string[] = [];
  if (f.state) idx.push(`state:${f.state}`);
  if (f.narrative) idx.push(`narrative:${f.narrative}`);
  if (f.locale) idx.push(`locale:${f.locale}`);
  if (f.speakerId) idx.push(`speaker:${f.speakerId}`);
  return idx;
}

export async function listQuotes(store: Store, f: QuoteFilter = {}): Promise<Quote[]> {
  const quotes = await store.quotes.list(indexesOf(f));
  return quotes.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
}

/** At most this many quotes are read per request when searching text; the page then offers to go on. */
export const TEXT_SEARCH_WINDOW = 2000;

export type QuotePage = {
  items: Quote[];
  /** Where the next page (or, for a text search, the next window) starts; absent at the end. */
  next?: IndexPosition;
  /** Quotes matching the filters (without text search): O(1) for one filter, ZINTERCARD for several. */
  total?: number;
  /** Text search: quotes read in this request, and whether the window ended before a full page. */
  scanned?: number;
  windowFull?: boolean;
};

/**
 * One page of quotes in list order (oldest first, then id) from a cursor. The state, narrative,
 * locale and speaker filters walk the sorted indexes (the work is the page, not the store's size).
 * Text search has no index: it reads at most TEXT_SEARCH_WINDOW quotes from the cursor and returns
 * the matches among them with a cursor to search further.
 */
export async function pageQuotes(
  store: Store,
  f: QuoteFilter & { text?: string },
  o: { after?: IndexPosition; limit: number; window?: number },
): Promise<QuotePage> {
  const idx = indexesOf(f);
  const needle = f.text?.trim().toLocaleLowerCase();
  if (!needle) {
    const [page, total] = await Promise.all([
      store.quotes.page(idx, { after: o.after, limit: o.limit }),
      store.quotes.count(idx),
    ]);
    return { items: page.items.map((v) => v.value), next: page.next, total };
  }
  const window = o.window ?? TEXT_SEARCH_WINDOW;
  const items: Quote[] = [];
  let after = o.after;
  let scanned = 0;
  for (;;) {
    const chunk = await store.quotes.page(idx, { after, limit: Math.min(500, window - scanned) });
    for (const [i, v] of chunk.items.entries()) {
      scanned++;
      after = { sortKey: quoteSortKey(v.value), id: v.value.id };
      if (v.value.text.toLocaleLowerCase().includes(needle)) items.push(v.value);
      if (items.length === o.limit) {
        const more = i < chunk.items.length - 1 || Boolean(chunk.next);
        return { items, next: more ? after : undefined, scanned };
      }
    }
    if (!chunk.next) return { items, scanned };
    after = chunk.next;
    if (scanned >= window) return { items, next: after, scanned, windowFull: true };
  }
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
