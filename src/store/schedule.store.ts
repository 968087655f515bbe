import type { Redis } from "ioredis";
import type { Keys } from "./keys.js";

/**
 * What the schedulers share so a slot is enqueued once however many of them run:
 * - `schedule:slot:<campaign>:<epoch s>`: "pending" while one scheduler enqueues the slot (a short
 *   lease, so a scheduler that dies mid-way does not block the slot forever), then "done" for weeks,
 *   which outlives the export job itself (BullMQ forgets a removed job id and would take it again);
 * - `schedule:last:<campaign>`: epoch ms of the latest slot done (or passed while paused), only ever
 *   raised; catch-up after downtime starts after it.
 * All keys share the store's hash tag, so the scripts stay legal on Redis Cluster.
 */

const CLAIM_LUA = `
local won = {}
for i, k in ipairs(KEYS) do
  if redis.call('SET', k, 'pending', 'NX', 'PX', ARGV[1]) then won[#won + 1] = i end
end
return won
`;

const DONE_LUA = `
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[2]) > cur then redis.call('SET', KEYS[1], ARGV[2]) end
if KEYS[2] then redis.call('SET', KEYS[2], 'done', 'EX', ARGV[1]) end
return 1
`;

const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == 'pending' then return redis.call('DEL', KEYS[1]) end
return 0
`;

type WithScripts = {
  scheduleClaim(numKeys: number, ...args: string[]): Promise<number[]>;
  scheduleDone(numKeys: number, ...args: string[]): Promise<number>;
  scheduleRelease(numKeys: number, ...args: string[]): Promise<number>;
};

function withScripts(redis: Redis): WithScripts {
  if (!("scheduleClaim" in redis)) {
    redis.defineCommand("scheduleClaim", { lua: CLAIM_LUA });
    redis.defineCommand("scheduleDone", { lua: DONE_LUA });
    redis.defineCommand("scheduleRelease", { lua: RELEASE_LUA });
  }
  return redis as unknown as WithScripts;
}

const epochSeconds = (slot: Date) => Math.floor(slot.getTime() / 1000);

export function createScheduleStore(redis: Redis, keys: Keys) {
  const r = withScripts(redis);
  const slotKey = (campaignId: string, slot: Date) =>
    keys.misc(`schedule:slot:${campaignId}:${epochSeconds(slot)}`);
  const lastKey = (campaignId: string) => keys.misc(`schedule:last:${campaignId}`);

  return {
    /** Takes a lease on every slot nobody has taken or done yet; returns those (ascending as given). */
    async claim(campaignId: string, slots: Date[], leaseMs: number): Promise<Date[]> {
      const won: Date[] = [];
      // Bounded batches: a sweep of a seconds-level schedule can name thousands of slots.
      for (let i = 0; i < slots.length; i += 500) {
        const batch = slots.slice(i, i + 500);
        const idx = await r.scheduleClaim(
          batch.length,
          ...batch.map((s) => slotKey(campaignId, s)),
          String(Math.max(1, Math.round(leaseMs))),
        );
        for (const n of idx) won.push(batch[n - 1]!);
      }
      return won;
    },

    /** The slot's job is in the queue: remember it for `ttlSeconds` and raise the campaign's last slot. */
    async done(campaignId: string, slot: Date, ttlSeconds: number): Promise<void> {
      await r.scheduleDone(
        2,
        lastKey(campaignId),
        slotKey(campaignId, slot),
        String(ttlSeconds),
        String(slot.getTime()),
      );
    },

    /** Enqueueing failed: drop our lease so the next sweep (here or elsewhere) retries the slot. */
    async release(campaignId: string, slot: Date): Promise<void> {
      await r.scheduleRelease(1, slotKey(campaignId, slot));
    },

    /** Slots up to `slot` passed without an export (campaign paused): catch-up must not revive them. */
    async pass(campaignId: string, slot: Date): Promise<void> {
      await r.scheduleDone(1, lastKey(campaignId), "0", String(slot.getTime()));
    },

    async lastSlot(campaignId: string): Promise<Date | undefined> {
      const raw = await redis.get(lastKey(campaignId));
      return raw ? new Date(Number(raw)) : undefined;
    },

    async slotState(campaignId: string, slot: Date): Promise<"pending" | "done" | undefined> {
      const raw = await redis.get(slotKey(campaignId, slot));
      return raw === "pending" || raw === "done" ? raw : undefined;
    },
  };
}
export type ScheduleStore = ReturnType<typeof createScheduleStore>;
