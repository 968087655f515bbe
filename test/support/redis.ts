import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { connectRedis } from "../../src/store/redis.js";
import { createStore, deleteAllKeys, type Store } from "../../src/store/store.js";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** A store under a fresh key prefix, so test files never see each other's data; delete it afterwards. */
export function testStore(name: string): {
  store: Store;
  redis: Redis;
  prefix: string;
  cleanup: (opts?: { afterWorkers?: boolean }) => Promise<void>;
} {
  const prefix = `test-${name}-${randomBytes(4).toString("hex")}`;
  const redis = connectRedis(REDIS_URL, "command");
  const store = createStore(redis, prefix);
  return {
    store,
    redis,
    prefix,
    /** `afterWorkers: false` when no BullMQ worker ever ran on the prefix: one sweep is enough. */
    async cleanup({ afterWorkers = true } = {}) {
      await deleteAllKeys(redis, prefix);
      if (afterWorkers) {
        // A closing BullMQ worker may still write its stalled-check marker just after: sweep once more.
        await new Promise((r) => setTimeout(r, 200));
        await deleteAllKeys(redis, prefix);
      }
      await redis.quit();
    },
  };
}

/** Every key under the prefix, for "nothing was written" assertions. */
export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `{${prefix}}:*`, "COUNT", 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== "0");
  return found.sort();
}
