import type { Redis } from "ioredis";
import type { Keys } from "./keys.js";

/**
 * A write probe for /health: a PING proves Redis answers, not that it accepts writes (out of memory
 * under noeviction, a read-only replica, a failed RDB save with stop-writes-on-bgsave-error). One
 * short-lived key under the prefix; undefined when the write went through, else Redis's reason.
 */
export async function probeWrite(redis: Redis, keys: Keys): Promise<string | undefined> {
  try {
    await redis.set(keys.misc("health:probe"), String(Date.now()), "PX", 60_000);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
