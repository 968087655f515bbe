import type { Redis } from "ioredis";
import type { Campaign } from "../domain/campaign.js";
import type { Quote } from "../domain/quote.js";
import type { Speaker } from "../domain/speaker.js";
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
      ],
    }),
    campaigns: createEntityRepo<Campaign>(redis, keys, "campaign", {
      parse: (raw) => raw as Campaign,
      indexes: (c) => [c.paused ? "paused" : "active"],
    }),
  };
}
export type Store = ReturnType<typeof createStore>;

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
