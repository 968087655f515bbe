import type { Redis } from "ioredis";
import { AppError } from "../domain/errors.js";
import { type AuditEntry, auditFields } from "./audit.store.js";
import type { Keys } from "./keys.js";

/**
 * Lua, shared by the commit script and the drop's by-id script (export-outputs.store.ts): moves an
 * entity's sorted-index entries and counters from its stored `ix` (JSON, or nil/false when it has
 * none) to the new one, touching only what differs.
 */
export const MOVE_INDEX_ENTRIES_LUA = `
local function moveIndexEntries(oldRaw, newRaw)
  local new = cjson.decode(newRaw)
  local old = oldRaw and cjson.decode(oldRaw) or { z = {}, c = {} }
  local oz, nz, oc, nc = {}, {}, {}, {}
  for _, z in ipairs(old.z) do oz[z[1]] = z[2] end
  for _, z in ipairs(new.z) do nz[z[1]] = z[2] end
  for k, m in pairs(oz) do if nz[k] ~= m then redis.call('ZREM', k, m) end end
  for k, m in pairs(nz) do if oz[k] ~= m then redis.call('ZADD', k, 0, m) end end
  for _, e in ipairs(old.c) do oc[e[1] .. '\\n' .. e[2]] = e end
  for _, e in ipairs(new.c) do nc[e[1] .. '\\n' .. e[2]] = e end
  for eid, e in pairs(oc) do
    if not nc[eid] and redis.call('HINCRBY', e[1], e[2], -1) <= 0 then redis.call('HDEL', e[1], e[2]) end
  end
  for eid, e in pairs(nc) do if not oc[eid] then redis.call('HINCRBY', e[1], e[2], 1) end end
end
`;

/** The commit script (exported so the bench can name it in Redis's slow log by its sha1). */
export const COMMIT_LUA = `${MOVE_INDEX_ENTRIES_LUA}
-- Atomic batch write with optimistic concurrency: every write names the revision it was computed
-- from (-1: any, 0: must not exist yet); one stale revision and nothing at all is written.
-- The batch arrives flat in ARGV, read by position (decoding a JSON batch cost about as much Redis
-- CPU as all the writes of a status change): ARGV[1] the audit stream, ARGV[2] the number of writes,
-- then each write as
--   len key id expect reindex(0/1) data hasIx(0/1) ix  nSrem srem... nSadd sadd...
--   hasDiff(0/1) old  nZrem (key member)...  nZadd (key member)...  nCdec (key field)...  nCinc (key field)...
-- (len: how many arguments the write takes, itself included), then the extra ops (n, then each as
-- n args...), the audit entries (n, then each as n fields...), the hashes to read (n, keys...) and
-- the sets to read (n, keys...).
local A = ARGV
local auditKey = A[1]
local nWrites = tonumber(A[2])
-- Each key's revision is read once: the check, then the writes count on from it (a key written
-- twice in one batch gets two revisions, as two commits would give it).
local revs = {}
local starts = {}
local i = 3
for n = 1, nWrites do
  starts[n] = i
  local key, expect = A[i + 1], tonumber(A[i + 3])
  local cur = revs[key]
  if cur == nil then
    cur = tonumber(redis.call('HGET', key, 'rev')) or 0
    revs[key] = cur
  end
  if expect ~= -1 and cur ~= expect then
    return { 'CONFLICT', key, tostring(cur) }
  end
  i = i + tonumber(A[i])
end
for n = 1, nWrites do
  local s = starts[n]
  local key, id = A[s + 1], A[s + 2]
  local hasIx = A[s + 6] == '1'
  -- data, rev and ix of the entity land in one HSET, before anything else of this write: under
  -- maxmemory Redis refuses a script at its first write only if that write may grow memory (HSET
  -- may, SREM/ZREM do not; after one write the script runs to its end), so a batch refused for OOM
  -- writes nothing at all.
  local ixRaw = hasIx and A[s + 7] or nil
  local oldRaw = hasIx and redis.call('HGET', key, 'ix') or nil
  local fields = {}
  if A[s + 4] ~= '1' then
    local nextRev = revs[key] + 1
    revs[key] = nextRev
    fields = { 'data', A[s + 5], 'rev', nextRev }
  end
  if hasIx and ixRaw ~= oldRaw then
    fields[#fields + 1] = 'ix'
    fields[#fields + 1] = ixRaw
  end
  if #fields > 0 then redis.call('HSET', key, unpack(fields)) end
  local j = s + 8
  local c = tonumber(A[j])
  for k = j + 1, j + c do redis.call('SREM', A[k], id) end
  j = j + c + 1
  c = tonumber(A[j])
  for k = j + 1, j + c do redis.call('SADD', A[k], id) end
  j = j + c + 1
  if hasIx then
    -- Sorted-index entries and counters this entity contributes: the hash remembers the last set
    -- ('ix', read above before it was replaced), so only what differs moves, and a rebuild of one
    -- entity is the same step again.
    if A[j] == '1' and redis.sha1hex(oldRaw or '') == A[j + 1] then
      -- The caller computed the moves from the previous value, and the stored set is the one that
      -- value gives (same digest): apply them without decoding either set.
      j = j + 2
      c = tonumber(A[j])
      for k = j + 1, j + 2 * c, 2 do redis.call('ZREM', A[k], A[k + 1]) end
      j = j + 2 * c + 1
      c = tonumber(A[j])
      for k = j + 1, j + 2 * c, 2 do redis.call('ZADD', A[k], 0, A[k + 1]) end
      j = j + 2 * c + 1
      c = tonumber(A[j])
      for k = j + 1, j + 2 * c, 2 do
        if redis.call('HINCRBY', A[k], A[k + 1], -1) <= 0 then redis.call('HDEL', A[k], A[k + 1]) end
      end
      j = j + 2 * c + 1
      c = tonumber(A[j])
      for k = j + 1, j + 2 * c, 2 do redis.call('HINCRBY', A[k], A[k + 1], 1) end
    else
      moveIndexEntries(oldRaw, ixRaw)
    end
  end
end
local c = tonumber(A[i])
i = i + 1
for _ = 1, c do
  local n = tonumber(A[i])
  redis.call(unpack(A, i + 1, i + n))
  i = i + n + 1
end
c = tonumber(A[i])
i = i + 1
for _ = 1, c do
  local n = tonumber(A[i])
  redis.call('XADD', auditKey, '*', unpack(A, i + 1, i + n))
  i = i + n + 1
end
-- Reads after the writes, in the same step: entity hashes (data, rev) and set members.
local out = { 'OK' }
c = tonumber(A[i])
for k = i + 1, i + c do
  local v = redis.call('HMGET', A[k], 'data', 'rev')
  out[#out + 1] = v[1]
  out[#out + 1] = v[2]
end
i = i + c + 1
c = tonumber(A[i])
for k = i + 1, i + c do out[#out + 1] = redis.call('SMEMBERS', A[k]) end
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

type WithCommit = { testimonyCommit(numKeys: number, ...args: (string | number)[]): Promise<unknown> };

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
  // The batch flat, read by position in the script (see COMMIT_LUA for the layout).
  const args: (string | number)[] = [keys.audit, batch.writes.length];
  for (const w of batch.writes) {
    const start = args.length;
    args.push(0, w.key, w.id, w.expect, w.reindex ? 1 : 0, w.data, w.ix === undefined ? 0 : 1, w.ix ?? "");
    args.push(w.srem.length, ...w.srem, w.sadd.length, ...w.sadd);
    const d = w.ixDiff;
    args.push(d ? 1 : 0, d?.old ?? "");
    for (const moves of [d?.zrem, d?.zadd, d?.cdec, d?.cinc]) {
      args.push(moves?.length ?? 0);
      for (const [k, m] of moves ?? []) args.push(k, m);
    }
    args[start] = args.length - start;
  }
  const ops = batch.ops ?? [];
  args.push(ops.length);
  for (const op of ops) args.push(op.length, ...op);
  const audit = batch.audit ?? [];
  args.push(audit.length);
  for (const e of audit) {
    const f = auditFields(e);
    args.push(f.length, ...f);
  }
  args.push(hashes.length, ...hashes, sets.length, ...sets);
  const reply = (await withCommit(redis).testimonyCommit(touched.size, ...touched, ...args)) as unknown[];
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
