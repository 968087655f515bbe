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
  local nextRev = (tonumber(redis.call('HGET', w.key, 'rev')) or 0) + 1
  redis.call('HSET', w.key, 'data', w.data, 'rev', nextRev)
  for _, k in ipairs(w.srem) do redis.call('SREM', k, w.id) end
  for _, k in ipairs(w.sadd) do redis.call('SADD', k, w.id) end
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
    for (const k of [...w.srem, ...w.sadd]) touched.add(k);
  }
  for (const op of batch.ops ?? []) if (op[1]) touched.add(op[1]);
  const payload = JSON.stringify({
    writes: batch.writes,
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
