import { Redis, type RedisOptions } from "ioredis";
import type { Logger } from "../logger.js";

/**
 * Two kinds of connection: commands from the CLI and the API fail fast when Redis is gone
 * (so a person sees an error, not a hang); BullMQ workers need `maxRetriesPerRequest: null`
 * so they ride out a Redis restart.
 */
export function connectRedis(url: string, kind: "command" | "worker" = "command"): Redis {
  const options: RedisOptions =
    kind === "worker"
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: true, connectTimeout: 5000 };
  return new Redis(url, { lazyConnect: false, ...options });
}

/** BullMQ and our own data both need every write kept: an evicting Redis silently loses jobs and reviews. */
export async function warnUnlessNoEviction(redis: Redis, log: Logger): Promise<void> {
  try {
    const reply = (await redis.config("GET", "maxmemory-policy")) as string[];
    const policy = reply[1];
    if (policy && policy !== "noeviction") {
      log.warn(
        { policy },
        "Redis maxmemory-policy is not noeviction: keys may be evicted under memory pressure",
      );
    }
  } catch {
    // Managed Redis often forbids CONFIG; nothing to check then.
  }
}
