import type { Redis } from "ioredis";
import { AppError } from "../domain/errors.js";
import { type AuditEntry, auditFields } from "./audit.store.js";
import type { Keys } from "./keys.js";

const COMMIT_LUA = `
-- Atomic batch write with optimistic concurrency: every write names the revision it was computed
-- from (-1: any, 0: must not exist yet); one stale revision and nothing at all is written.
local p = cjson.decode(ARGV[1])
for _, w in ipairs(p.writes) do
  local cur = tonumber(redis.call('HGET', w.key, 'rev')) or 0
  if w.expect ~= -1 and cur ~= w.expect then
    return { 'CONFLICT', w.key, tostring(cur) }
  end
end
for _, w in ipairs(p.writes) do
  if not w.reindex then
    local nextRev = (tonumber(redis.call('HGET', w.key, 'rev')) or 0) + 1
    redis.call('HSET', w.key, 'data', w.data, 'rev', nextRev)
  end
  for _, k in ipairs(w.srem) do redis.call('SREM', k, w.id) end
  for _, k in ipairs(w.sadd) do redis.call('SADD', k, w.id) end
  if w.ix then
    -- Sorted-index entries and counters this entity contributes: the hash remembers the last set
    -- ('ix'), so only what differs moves, and a rebuild of one entity is the same step again.
    local new = cjson.decode(w.ix)
    local oldRaw = redis.call('HGET', w.key, 'ix')
    local old = oldRaw and cjson.decode(oldRaw) or { z = {}, c = {} }
    local oz, nz, oc, nc = {}, {}, {}, {}
    for _, z in ipairs(old.z) do oz[z[1]] = z[2] end
    for _, z in ipairs(new.z) do nz[z[1]] = z[2] end
    for k, m in pairs(oz) do if nz[k] ~= m then redis.call('ZREM', k, m) end end
    for k, m in pairs(nz) do if oz[k] ~= m then redis.call('ZADD', k, 0, m) end end
    for _, c in ipairs(old.c) do oc[c[1] .. '\\n' .. c[2]] = c end
    for _, c in ipairs(new.c) do nc[c[1] .. '\\n' .. c[2]] = c end
    for id, c in pairs(oc) do
      if not nc[id] and redis.call('HINCRBY', c[1], c[2], -1) <= 0 then redis.call('HDEL', c[1], c[2]) end
    end
    for id, c in pairs(nc) do if not oc[id] then redis.call('HINCRBY', c[1], c[2], 1) end end
    redis.call('HSET', w.key, 'ix', w.ix)
  end
end
for _, op in ipairs(p.ops) do redis.call(unpack(op)) end
for _, a in ipairs(p.audit) do redis.call('XADD', p.auditKey, '*', unpack(a)) end
return { 'OK' }
`;

export type EntityWrite = {
  key: string;
  id: string;
  /** Revision the new value was computed from: -1 any, 0 must not exist yet. */
  expect: number;
  data: string;
  srem: string[];
  sadd: string[];
  /**
   * Sorted-index entries and counters of the new value, JSON `{z: [[key, member]], c: [[key, field]]}`;
   * the script diffs them against the ones stored with the entity.
   */
  ix?: string;
  /** Keys the `ix` diff may touch (old and new), declared to Redis. */
  ixKeys?: string[];
  /** Only redo `ix` (a rebuild): data and revision stay as they are. */
  reindex?: boolean;
};

/** Extra commands in the same atomic step, e.g. ["SADD", key, member]. */
export type RawOp = [string, ...string[]];

export type Batch = { writes: EntityWrite[]; ops?: RawOp[]; audit?: AuditEntry[] };

type WithCommit = { testimonyCommit(numKeys: number, ...args: string[]): Promise<string[]> };

function withCommit(redis: Redis): WithCommit {
  if (!("testimonyCommit" in redis)) redis.defineCommand("testimonyCommit", { lua: COMMIT_LUA });
  return redis as unknown as WithCommit;
}

/** All writes, index moves, extra ops and audit entries of the batch land together, or none do. */
export async function commitBatch(redis: Redis, keys: Keys, batch: Batch): Promise<void> {
  if (batch.writes.length === 0 && !batch.ops?.length && !batch.audit?.length) return;
  const touched = new Set<string>([keys.audit]);
  for (const w of batch.writes) {
    touched.add(w.key);
    for (const k of [...w.srem, ...w.sadd, ...(w.ixKeys ?? [])]) touched.add(k);
  }
  for (const op of batch.ops ?? []) if (op[1]) touched.add(op[1]);
  const payload = JSON.stringify({
    writes: batch.writes.map(({ ixKeys: _, ...w }) => w),
    ops: batch.ops ?? [],
    audit: (batch.audit ?? []).map(auditFields),
    auditKey: keys.audit,
  });
  const reply = await withCommit(redis).testimonyCommit(touched.size, ...touched, payload);
  if (reply[0] === "CONFLICT") {
    const id = reply[1]?.split(":").pop();
    throw new AppError("conflict", `${id} was changed by someone else meanwhile; reload and try again`);
  }
}
