import { AppError, notFound } from "../domain/errors.js";
import { ID_PATTERN } from "../domain/ids.js";
import type { Narrative } from "../domain/narrative.js";
import { applyVetting, type Quote, type VettingAction, type VettingState } from "../domain/quote.js";
import type { IndexPosition } from "../store/entity.repo.js";
import { foldForSearch, type Store } from "../store/store.js";

export type QuoteFilter = {
  state?: VettingState;
  narrative?: Narrative;
  locale?: string;
  speakerId?: string;
};

function indexesOf(f: QuoteFilter): string[] {
  const idx: string[] = [];
  // State and locale together have an index of their own (see the store).
  if (f.state && f.locale) idx.push(`state:${f.state}:locale:${f.locale}`);
  else if (f.state) idx.push(`state:${f.state}`);
  else if (f.locale) idx.push(`locale:${f.locale}`);
  if (f.narrative) idx.push(`narrative:${f.narrative}`);
  if (f.speakerId) idx.push(`speaker:${f.speakerId}`);
  return idx;
}

export async function listQuotes(store: Store, f: QuoteFilter = {}): Promise<Quote[]> {
  const quotes = await store.quotes.list(indexesOf(f));
  return quotes.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
}

/**
 * At most this many quotes are looked at per request when searching text: one step of the store's
 * search script, matched in Redis; the page then offers to go on.
 */
export const TEXT_SEARCH_WINDOW = 5000;

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
 * Text search walks the text index (every quote's id and folded text, in list order) from the
 * cursor, at most TEXT_SEARCH_WINDOW entries, checks the filters for the matches only, and returns
 * them with a cursor to search further.
 */
export async function pageQuotes(
  store: Store,
  f: QuoteFilter & { text?: string },
  o: { after?: IndexPosition; limit: number; window?: number },
): Promise<QuotePage> {
  const idx = indexesOf(f);
  const needle = f.text?.trim() ? foldForSearch(f.text.trim()) : undefined;
  if (!needle) {
    const [page, total] = await Promise.all([
      store.quotes.page(idx, { after: o.after, limit: o.limit }),
      store.quotes.count(idx),
    ]);
    return { items: page.items.map((v) => v.value), next: page.next, total };
  }
  const found = await store.quotes.search(idx, needle, {
    after: o.after,
    limit: o.limit,
    window: o.window ?? TEXT_SEARCH_WINDOW,
  });
  return {
    items: found.items.map((v) => v.value),
    next: found.next,
    scanned: found.scanned,
    windowFull: found.windowFull || undefined,
  };
}

/** A page of the API's and the CLI's quote list: `nextCursor` is absent on the last page. */
export type QuoteListPage = { items: Quote[]; nextCursor?: string; total: number };

/** Cursor = position in the list's order (createdAt, id), opaque to clients as for outputs. */
export const encodeQuoteCursor = (p: IndexPosition) =>
  Buffer.from(`${p.sortKey}\n${p.id}`).toString("base64url");

/** The position a cursor names; anything this list did not give out is refused, naming `cursor`. */
export function decodeQuoteCursor(cursor: string, where = "querystring"): IndexPosition {
  const parts = Buffer.from(cursor, "base64url").toString("utf8").split("\n");
  const [sortKey, id] = parts;
  if (parts.length !== 2 || !sortKey || Number.isNaN(Date.parse(sortKey)) || !ID_PATTERN.test(id ?? "")) {
    throw new AppError("invalid_input", "cursor is not one this list gave out", [
      { where, field: "cursor", message: "unknown cursor" },
    ]);
  }
  return { sortKey, id: id! };
}

/**
 * One page of the quote list (GET /api/quotes, `testimony quotes list`), oldest first, through the
 * sorted indexes from the cursor: the cost follows the page, not the store. A page can come back
 * short of `limit` with a cursor when combined filters skip many entries; follow the cursor.
 */
export async function listQuotePage(
  store: Store,
  f: QuoteFilter,
  o: { limit: number; cursor?: string; where?: string },
): Promise<QuoteListPage> {
  const after = o.cursor ? decodeQuoteCursor(o.cursor, o.where) : undefined;
  const page = await pageQuotes(store, f, { after, limit: o.limit });
  return {
    items: page.items,
    nextCursor: page.next ? encodeQuoteCursor(page.next) : undefined,
    total: page.total ?? 0,
  };
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
