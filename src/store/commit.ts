import type { Redis } from "ioredis";
import { AppError } from "../domain/errors.js";
import { type AuditEntry, auditFields } from "./audit.store.js";
import type { Keys } from "./keys.js";

/** The commit script (exported so the bench can name it in Redis's slow log by its sha1). */
export const COMMIT_LUA = `
-- Atomic batch write with optimistic concurrency: every write names the revision it was computed
-- from (-1: any, 0: must not exist yet); one stale revision and nothing at all is written.
-- ARGV[1] is the batch without its large strings: each write's data and ix are ARGV[w.a], ARGV[w.a+1]
-- (raw, so they are never escaped into and decoded out of the batch's JSON).
local p = cjson.decode(ARGV[1])
-- Each key's revision is read once: the check, then the writes count on from it (a key written
-- twice in one batch gets two revisions, as two commits would give it).
local revs = {}
for _, w in ipairs(p.writes) do
  local cur = revs[w.key]
  if cur == nil then
    cur = tonumber(redis.call('HGET', w.key, 'rev')) or 0
    revs[w.key] = cur
  end
  if w.expect ~= -1 and cur ~= w.expect then
    return { 'CONFLICT', w.key, tostring(cur) }
  end
end
for _, w in ipairs(p.writes) do
  -- data, rev and ix of the entity land in one HSET, before anything else of this write: under
  -- maxmemory Redis refuses a script at its first write only if that write may grow memory (HSET
  -- may, SREM/ZREM do not; after one write the script runs to its end), so a batch refused for OOM
  -- writes nothing at all.
  local ixRaw = w.ix and ARGV[w.a + 1] or nil
  local oldRaw = w.ix and redis.call('HGET', w.key, 'ix') or nil
  local fields = {}
  if not w.reindex then
    local nextRev = revs[w.key] + 1
    revs[w.key] = nextRev
    fields = { 'data', ARGV[w.a], 'rev', nextRev }
  end
  if w.ix and ixRaw ~= oldRaw then
    fields[#fields + 1] = 'ix'
    fields[#fields + 1] = ixRaw
  end
  if #fields > 0 then redis.call('HSET', w.key, unpack(fields)) end
  for _, k in ipairs(w.srem) do redis.call('SREM', k, w.id) end
  for _, k in ipairs(w.sadd) do redis.call('SADD', k, w.id) end
  if w.ix then
    -- Sorted-index entries and counters this entity contributes: the hash remembers the last set
    -- ('ix', read above before it was replaced), so only what differs moves, and a rebuild of one
    -- entity is the same step again.
    local d = w.d
    if d and redis.sha1hex(oldRaw or '') ~= d.old then d = nil end
    if d then
      -- The caller computed the moves from the previous value, and the stored set is the one that
      -- value gives (same digest): apply them without decoding either set.
      for _, z in ipairs(d.zrem) do redis.call('ZREM', z[1], z[2]) end
      for _, z in ipairs(d.zadd) do redis.call('ZADD', z[1], 0, z[2]) end
      for _, c in ipairs(d.cdec) do
        if redis.call('HINCRBY', c[1], c[2], -1) <= 0 then redis.call('HDEL', c[1], c[2]) end
      end
      for _, c in ipairs(d.cinc) do redis.call('HINCRBY', c[1], c[2], 1) end
    else
      local new = cjson.decode(ixRaw)
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
    end
  end
end
for _, op in ipairs(p.ops) do redis.call(unpack(op)) end
for _, a in ipairs(p.audit) do redis.call('XADD', p.auditKey, '*', unpack(a)) end
-- Reads after the writes, in the same step: entity hashes (data, rev) and set members.
local out = { 'OK' }
for _, k in ipairs(p.hashes) do
  local v = redis.call('HMGET', k, 'data', 'rev')
  out[#out + 1] = v[1]
  out[#out + 1] = v[2]
end
for _, k in ipairs(p.sets) do out[#out + 1] = redis.call('SMEMBERS', k) end
return out
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
  /**
   * The index moves from the previous value to this one, computed by the caller; the script uses them
   * only if the stored `ix` has the digest `old` (sha1 of the previous value's `ix`), else it diffs.
   */
  ixDiff?: IxDiff;
};

export type IxDiff = {
  old: string;
  zrem: [string, string][];
  zadd: [string, string][];
  cdec: [string, string][];
  cinc: [string, string][];
};

/** Extra commands in the same atomic step, e.g. ["SADD", key, member]. */
export type RawOp = [string, ...string[]];

export type Batch = {
  writes: EntityWrite[];
  ops?: RawOp[];
  audit?: AuditEntry[];
  /**
   * Read in the same call, after the writes: entity hashes (their data and rev) and sets (members).
   * Saves a round trip where a use case needs them right after its commit (the render worker).
   */
  read?: { hashes?: string[]; sets?: string[] };
};

/** What `read` asked for: each hash's data and rev (undefined when absent), each set's members. */
export type BatchReads = { hashes: { data?: string; rev: number }[]; sets: string[][] };

type WithCommit = { testimonyCommit(numKeys: number, ...args: string[]): Promise<unknown> };

function withCommit(redis: Redis): WithCommit {
  if (!("testimonyCommit" in redis)) redis.defineCommand("testimonyCommit", { lua: COMMIT_LUA });
  return redis as unknown as WithCommit;
}

/** All writes, index moves, extra ops and audit entries of the batch land together, or none do. */
export async function commitBatch(redis: Redis, keys: Keys, batch: Batch): Promise<BatchReads> {
  const hashes = batch.read?.hashes ?? [];
  const sets = batch.read?.sets ?? [];
  if (
    batch.writes.length === 0 &&
    !batch.ops?.length &&
    !batch.audit?.length &&
    !hashes.length &&
    !sets.length
  )
    return { hashes: [], sets: [] };
  const touched = new Set<string>([keys.audit, ...hashes, ...sets]);
  for (const w of batch.writes) {
    touched.add(w.key);
    for (const k of [...w.srem, ...w.sadd, ...(w.ixKeys ?? [])]) touched.add(k);
  }
  for (const op of batch.ops ?? []) if (op[1]) touched.add(op[1]);
  // Large strings travel as arguments of their own: ARGV[a] the data, ARGV[a + 1] the ix.
  const big: string[] = [];
  const writes = batch.writes.map(({ ixKeys: _, data, ix, ixDiff, ...w }) => {
    const a = big.length + 2;
    big.push(data, ix ?? "");
    return { ...w, a, ...(ix !== undefined ? { ix: true } : {}), ...(ixDiff ? { d: ixDiff } : {}) };
  });
  const payload = JSON.stringify({
    writes,
    ops: batch.ops ?? [],
    audit: (batch.audit ?? []).map(auditFields),
    auditKey: keys.audit,
    hashes,
    sets,
  });
  const reply = (await withCommit(redis).testimonyCommit(
    touched.size,
    ...touched,
    payload,
    ...big,
  )) as unknown[];
  if (reply[0] === "CONFLICT") {
    const id = (reply[1] as string | undefined)?.split(":").pop();
    throw new AppError("conflict", `${id} was changed by someone else meanwhile; reload and try again`);
  }
  const out: BatchReads = { hashes: [], sets: [] };
  let i = 1;
  for (const _ of hashes) {
    const data = reply[i++] as string | null;
    const rev = reply[i++] as string | null;
    out.hashes.push(data == null ? { rev: 0 } : { data, rev: Number(rev) });
  }
  for (const _ of sets) out.sets.push(reply[i++] as string[]);
  return out;
}
