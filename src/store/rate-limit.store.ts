import { createRequire } from "node:module";
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from "@fastify/rate-limit";
import type { Store } from "./store.js";

type RedisStoreCtor = new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
  redis: Store["redis"],
  key: string,
) => FastifyRateLimitStore & { read: FastifyRateLimitStore["incr"] };

// @fastify/rate-limit's own Redis store (one Lua INCR + PEXPIRE per hit); its package exports no types for it.
const RedisStore = createRequire(import.meta.url)("@fastify/rate-limit/store/RedisStore") as RedisStoreCtor;

/**
 * @fastify/rate-limit counters in the project's Redis, under `{prefix}:ratelimit:<key>`, so every
 * API process behind one Redis shares them and they vanish with the prefix. Callers give whole keys
 * (`ip:…`, `token:…`), so one store serves every limiter.
 */
export function rateLimitStore(store: Store): FastifyRateLimitStoreCtor {
  const inner = new RedisStore(false, false, store.redis, store.keys.misc("ratelimit:"));
  return class ProjectRateLimitStore implements FastifyRateLimitStore {
    incr: FastifyRateLimitStore["incr"] = (key, cb, timeWindow, max) => inner.incr(key, cb, timeWindow, max);
    read: FastifyRateLimitStore["incr"] = (key, cb, timeWindow, max) => inner.read(key, cb, timeWindow, max);
    child() {
      return this;
    }
  } as unknown as FastifyRateLimitStoreCtor;
}
