import type { Redis } from "ioredis";
import type { RawOp } from "./commit.js";
import type { Keys } from "./keys.js";

/**
 * Who is writing a bundle right now: `export:lease:<bundle id>` holds the exporter's owner id with a
 * TTL the exporter renews while it writes. A crashed exporter's lease runs out by itself; a later drop
 * may take it over then (or at once when the owner is a dead process on this host).
 */

const ACQUIRE_LUA = `
local cur = redis.call('GET', KEYS[1])
if (not cur) or cur == ARGV[1] or (ARGV[3] ~= '' and cur == ARGV[3]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 'OK'
end
return cur
`;

const RENEW_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

type WithScripts = {
  exportLeaseAcquire(numKeys: number, ...args: string[]): Promise<string>;
  exportLeaseRenew(numKeys: number, ...args: string[]): Promise<number>;
  exportLeaseRelease(numKeys: number, ...args: string[]): Promise<number>;
};

function withScripts(redis: Redis): WithScripts {
  if (!("exportLeaseAcquire" in redis)) {
    redis.defineCommand("exportLeaseAcquire", { lua: ACQUIRE_LUA });
    redis.defineCommand("exportLeaseRenew", { lua: RENEW_LUA });
    redis.defineCommand("exportLeaseRelease", { lua: RELEASE_LUA });
  }
  return redis as unknown as WithScripts;
}

export function createExportLeaseStore(redis: Redis, keys: Keys) {
  const r = withScripts(redis);
  const keyOf = (bundleId: string) => keys.misc(`export:lease:${bundleId}`);
  const ms = (n: number) => String(Math.max(1, Math.round(n)));
  return {
    /** The op that sets the lease inside the reservation's atomic commit. */
    setOp: (bundleId: string, owner: string, ttlMs: number): RawOp => [
      "SET",
      keyOf(bundleId),
      owner,
      "PX",
      ms(ttlMs),
    ],
    /**
     * Takes the lease when it is free, already ours, or held by `takeFrom` (an owner known dead).
     * Returns "ok", or the owner holding it.
     */
    async acquire(bundleId: string, owner: string, ttlMs: number, takeFrom = ""): Promise<"ok" | string> {
      const reply = await r.exportLeaseAcquire(1, keyOf(bundleId), owner, ms(ttlMs), takeFrom);
      return reply === "OK" ? "ok" : reply;
    },
    /** False when the lease is no longer ours (it ran out and someone else took it). */
    async renew(bundleId: string, owner: string, ttlMs: number): Promise<boolean> {
      return (await r.exportLeaseRenew(1, keyOf(bundleId), owner, ms(ttlMs))) === 1;
    },
    async release(bundleId: string, owner: string): Promise<void> {
      await r.exportLeaseRelease(1, keyOf(bundleId), owner);
    },
    async holder(bundleId: string): Promise<string | undefined> {
      return (await redis.get(keyOf(bundleId))) ?? undefined;
    },
    /** Milliseconds the lease has left (negative when there is none). */
    async ttlMs(bundleId: string): Promise<number> {
      return redis.pttl(keyOf(bundleId));
    },
  };
}
export type ExportLeaseStore = ReturnType<typeof createExportLeaseStore>;
