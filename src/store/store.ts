import type { Redis } from "ioredis";
import type { Bundle } from "../domain/bundle.js";
import type { Campaign } from "../domain/campaign.js";
import type { Output } from "../domain/output.js";
import type { Quote } from "../domain/quote.js";
import type { RedactionTerm } from "../domain/redaction.js";
import type { Speaker } from "../domain/speaker.js";
import type { User } from "../domain/user.js";
import { createAuditStore } from "./audit.store.js";
import { createEntityRepo } from "./entity.repo.js";
import { createKeys } from "./keys.js";

/** Everything testimony keeps, behind one prefix; the only module that knows key names. */
export function createStore(redis: Redis, prefix: string) {
  const keys = createKeys(prefix);
  return {
    redis,
    keys,
    audit: createAuditStore(redis, keys),
    speakers: createEntityRepo<Speaker>(redis, keys, "speaker", {
      parse: (raw) => raw as Speaker,
      indexes: (s) => [`attribution:${s.attribution}`, `consent:${s.consent?.state ?? "none"}`],
    }),
    quotes: createEntityRepo<Quote>(redis, keys, "quote", {
      parse: (raw) => raw as Quote,
      indexes: (q) => [
        `state:${q.vetting.state}`,
        `narrative:${q.narrative}`,
        `locale:${q.locale}`,
        `speaker:${q.speakerId}`,
        // The workspace's usual pair of filters as one index: a page and its total read one sorted
        // set, as for one filter, instead of walking one and checking the other.
        `state:${q.vetting.state}:locale:${q.locale}`,
      ],
      // Oldest first, then id: the list reads a page at a time from a cursor, filters by index.
      sortKey: quoteSortKey,
      // Quotes by state × narrative × locale, for coverage without reading every quote.
      counters: (q) => [["all", quoteCountField(q)]],
      // Text search reads ids and folded texts from an index of its own, not every quote's JSON.
      searchText: (q) => foldForSearch(q.text),
      // Sorted indexes, then the text and state × locale indexes, came after the counters: an older
      // store is re-indexed once.
      layout: "quotes-sorted-text-statelocale",
    }),
    outputs: createEntityRepo<Output>(redis, keys, "output", {
      parse: (raw) => raw as Output,
      indexes: (o) => [
        `status:${o.status}`,
        `campaign:${o.campaignId}`,
        `campaign:${o.campaignId}:status:${o.status}`,
        `speaker:${o.speakerId}`,
        `quote:${o.quoteId}`,
        `locale:${o.locale}`,
        `narrative:${o.narrative}`,
        `format:${o.format}`,
      ],
      // Oldest queued first, then id: the order of every listing, read a page at a time.
      sortKey: (o) => o.queuedAt,
      // Per campaign, status × narrative × locale × format: coverage, review filters and totals.
      counters: (o) => [[`campaign:${o.campaignId}`, outputCountField(o)]],
    }),
    bundles: createEntityRepo<Bundle>(redis, keys, "bundle", {
      parse: (raw) => raw as Bundle,
      indexes: (b) => [`campaign:${b.campaignId}`, `status:${b.status}`],
    }),
    /** Output ids each later bundle of a campaign must list as takedowns, until acknowledged. */
    takedownsKey: (campaignId: string) => keys.misc(`takedowns:${campaignId}`),
    redactions: createEntityRepo<RedactionTerm>(redis, keys, "redaction", {
      parse: (raw) => raw as RedactionTerm,
      indexes: (r) => [r.speakerId ? `speaker:${r.speakerId}` : "global"],
    }),
    users: createEntityRepo<User>(redis, keys, "user", {
      parse: (raw) => raw as User,
      indexes: (u) => [
        `token:${u.tokenId}`,
        ...u.roles.map((r) => `role:${r}`),
        u.revokedAt ? "revoked" : "active",
      ],
    }),
    campaigns: createEntityRepo<Campaign>(redis, keys, "campaign", {
      parse: (raw) => raw as Campaign,
      indexes: (c) => [c.paused ? "paused" : "active"],
    }),
  };
}
export type Store = ReturnType<typeof createStore>;

/** Counter field of an output in `outputs.counts("campaign:<id>")`. */
export const outputCountField = (o: Pick<Output, "status" | "narrative" | "locale" | "format">) =>
  `${o.status}|${o.narrative}|${o.locale}|${o.format}`;
export function parseOutputCountField(field: string) {
  const [status, narrative, locale, format] = field.split("|") as [string, string, string, string];
  return { status, narrative, locale, format };
}
/** Where a quote sits in the quote indexes (then its id): the list's order. */
export const quoteSortKey = (q: Pick<Quote, "createdAt">) => q.createdAt;
/** How quote text and a search for it are compared: case-folded, the same in every process's locale. */
export const foldForSearch = (s: string) => s.toLowerCase();
/** Counter field of a quote in `quotes.counts("all")`. */
export const quoteCountField = (q: Pick<Quote, "vetting" | "narrative" | "locale">) =>
  `${q.vetting.state}|${q.narrative}|${q.locale}`;
export function parseQuoteCountField(field: string) {
  const [state, narrative, locale] = field.split("|") as [string, string, string];
  return { state, narrative, locale };
}

/** Deletes every key under the prefix (tests and `testimony reset`); SCAN, never KEYS. */
export async function deleteAllKeys(redis: Redis, prefix: string): Promise<number> {
  const { pattern } = createKeys(prefix);
  let cursor = "0";
  let n = 0;
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = next;
    if (found.length) n += await redis.unlink(...found);
  } while (cursor !== "0");
  return n;
}
