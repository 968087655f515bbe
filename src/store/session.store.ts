import { createHash, randomBytes } from "node:crypto";
import type { Store } from "./store.js";

/** `lang`: the page language the user chose (absent: the browser's Accept-Language decides). */
export type Session = { userId: string; csrf: string; createdAt: string; lang?: string };

const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * Review-page sessions: a random id in an httpOnly cookie maps to the user in Redis. Only a hash of
 * the id is used as the key, so a Redis dump or MONITOR does not hand out live sessions. The TTL
 * slides with use (idle timeout) but never beyond the absolute maximum.
 */
export function createSessionStore(store: Store, opts: { idleSeconds?: number; maxSeconds?: number } = {}) {
  const idle = opts.idleSeconds ?? 8 * 3600;
  const max = opts.maxSeconds ?? 24 * 3600;
  const keyOf = (id: string) => store.keys.misc(`session:${createHash("sha256").update(id).digest("hex")}`);
  // The language a user chose outlives the session: the next sign-in starts in it.
  const langKey = (userId: string) => store.keys.misc(`lang:${userId}`);

  return {
    idleSeconds: idle,
    async create(userId: string, now = new Date()): Promise<Session & { id: string }> {
      const id = randomBytes(32).toString("base64url");
      const lang = (await store.redis.get(langKey(userId))) ?? undefined;
      const session: Session = {
        userId,
        csrf: randomBytes(32).toString("base64url"),
        createdAt: now.toISOString(),
        ...(lang ? { lang } : {}),
      };
      await store.redis.set(keyOf(id), JSON.stringify(session), "EX", idle);
      return { id, ...session };
    },
    async get(id: string | undefined, now = new Date()): Promise<(Session & { id: string }) | undefined> {
      if (!id || !ID_PATTERN.test(id)) return undefined;
      const raw = await store.redis.get(keyOf(id));
      if (!raw) return undefined;
      const session = JSON.parse(raw) as Session;
      const left = max - (now.getTime() - Date.parse(session.createdAt)) / 1000;
      if (left <= 0) {
        await store.redis.del(keyOf(id));
        return undefined;
      }
      await store.redis.expire(keyOf(id), Math.ceil(Math.min(idle, left)));
      return { id, ...session };
    },
    /** Keeps the user's page language in this session (its TTL unchanged) and for their next sign-ins. */
    async setLanguage(session: Session & { id: string }, lang: string): Promise<void> {
      const { id, ...stored } = session;
      await store.redis
        .multi()
        .set(keyOf(id), JSON.stringify({ ...stored, lang }), "KEEPTTL")
        .set(langKey(session.userId), lang)
        .exec();
    },
    async destroy(id: string): Promise<void> {
      if (ID_PATTERN.test(id)) await store.redis.del(keyOf(id));
    },
  };
}
export type SessionStore = ReturnType<typeof createSessionStore>;
