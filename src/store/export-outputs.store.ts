import type { Output } from "../domain/output.js";
import { MOVE_INDEX_ENTRIES_LUA } from "./commit.js";
import type { Store } from "./store.js";

/**
 * Reserve and mark exported, by id, inside Redis: one script call per batch reads each output,
 * decides, and writes, so the client neither reads the records nor sends them back.
 *
 * Records are never re-encoded by cjson (it turns [] into {}, escapes "/", reorders keys and rounds
 * numbers): the script decodes a record only to read its fields, and writes the stored JSON patched
 * with string operations, giving byte for byte what `JSON.stringify` of the generic path gives for a
 * record `JSON.stringify` wrote:
 * - reserve (approved, no `bundleId`): `{...o, bundleId}` appends the key, so `,"bundleId":<id>` goes
 *   before the closing brace;
 * - mark (approved, this `bundleId`, no `exportedAt`): `move(o, "exported", at, {exportedAt, bundleId})`
 *   keeps every key in place, so the values of `status` and `updatedAt` are replaced where they stand
 *   and `,"exportedAt":<at>` is appended. Each key is found as its only occurrence of `"key":` not
 *   preceded by a backslash (inside a JSON string a quote is always escaped, so any other occurrence
 *   is a key too: a nested one, and then the record takes the generic path); the decoded record
 *   says that key is top-level and what its value is, and the text at the occurrence must hold
 *   exactly that value. (JSON.stringify, the only writer of records, never escapes a character of
 *   these key names, so a top-level key always appears as `"key":`.)
 * The output's `ix` (its sorted-index entries and counters) is the stored one with the status parts
 * replaced (`statusRules`, checked at start against the repo's own `write` for a sample output), and
 * the entries and counters that differ move exactly as the generic commit's diff moves them.
 * Anything unusual (a record the patch cannot place, a missing `ix`, a falsy non-absent `bundleId`)
 * makes the whole batch answer `fallback`, writing nothing: the caller then takes the generic path.
 * Exported so the bench can name it in Redis's slow log by its sha1.
 */
export const EXPORT_OUTPUTS_LUA = `${MOVE_INDEX_ENTRIES_LUA}
-- KEYS[1] bundle, KEYS[2] audit stream, KEYS[3] campaign takedowns, KEYS[4..] outputs.
-- ARGV: mode ('reserve' | 'mark'), expected bundle rev, bundle id, bundle id as JSON, at, at as JSON,
-- actor, n rules, then n (from, to) pairs for the ix, then the output ids (as KEYS[4..]).
local mode, expect = ARGV[1], tonumber(ARGV[2])
local bundleId, idJson, at, atJson, actor = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local nrules = tonumber(ARGV[8])
local rules = {}
for r = 1, nrules do rules[r] = { ARGV[8 + 2 * r - 1], ARGV[8 + 2 * r] } end
local firstId = 9 + 2 * nrules
local cur = tonumber(redis.call('HGET', KEYS[1], 'rev')) or 0
if cur ~= expect then return { 'CONFLICT', tostring(cur) } end

-- Where the only key "name" of the JSON text starts: nil when absent, false when there are several.
local function onlyKey(raw, name)
  local pat = '"' .. name .. '":'
  local found, from = nil, 1
  while true do
    local s = string.find(raw, pat, from, true)
    if not s then return found end
    if s == 1 or string.sub(raw, s - 1, s - 1) ~= '\\\\' then
      if found then return false end
      found = s
    end
    from = s + 1
  end
end
local function replaceAll(s, from, to)
  local out, i = {}, 1
  while true do
    local a, b = string.find(s, from, i, true)
    if not a then break end
    out[#out + 1] = string.sub(s, i, a - 1)
    out[#out + 1] = to
    i = b + 1
  end
  out[#out + 1] = string.sub(s, i)
  return table.concat(out)
end

-- Phase 1, reads only: what each output becomes.
local codes, plan = {}, {}
for i = 4, #KEYS do
  local key = KEYS[i]
  local v = redis.call('HMGET', key, 'data', 'rev', 'ix')
  local raw, code = v[1], 'S'
  if raw then
    local ok, o = pcall(cjson.decode, raw)
    if not ok or type(o) ~= 'table' or string.sub(raw, -1) ~= '}' or #raw < 3 then return { 'FALLBACK' } end
    local rev = (tonumber(v[2]) or 0) + 1
    if mode == 'reserve' then
      if o.status == 'approved' then
        local b = o.bundleId
        if b == nil then
          code = 'R'
          plan[#plan + 1] = { key = key, data = string.sub(raw, 1, -2) .. ',"bundleId":' .. idJson .. '}', rev = rev }
        elseif b == cjson.null or b == '' or b == false or b == 0 then
          return { 'FALLBACK' }
        end
      end
    else
      if o.status == 'withdrawn' then
        code = 'W'
      elseif o.status == 'exported' and o.bundleId == bundleId then
        code = 'A'
      elseif o.status == 'approved' and o.bundleId == bundleId then
        local s, u = onlyKey(raw, 'status'), onlyKey(raw, 'updatedAt')
        if not s or not u or o.exportedAt ~= nil or onlyKey(raw, 'exportedAt') ~= nil
          or type(o.updatedAt) ~= 'string' or not v[3] then
          return { 'FALLBACK' }
        end
        local sv, uv = s + 9, u + 12
        local uEnd = uv + #o.updatedAt + 1
        if string.sub(raw, sv, sv + 9) ~= '"approved"'
          or string.sub(raw, uv, uEnd) ~= '"' .. o.updatedAt .. '"' then
          return { 'FALLBACK' }
        end
        local data
        if sv < uv then
          data = string.sub(raw, 1, sv - 1) .. '"exported"' .. string.sub(raw, sv + 10, uv - 1) .. atJson
            .. string.sub(raw, uEnd + 1, -2)
        else
          data = string.sub(raw, 1, uv - 1) .. atJson .. string.sub(raw, uEnd + 1, sv - 1) .. '"exported"'
            .. string.sub(raw, sv + 10, -2)
        end
        data = data .. ',"exportedAt":' .. atJson .. '}'
        local ix = v[3]
        for _, r in ipairs(rules) do ix = replaceAll(ix, r[1], r[2]) end
        if ix == v[3] then return { 'FALLBACK' } end
        code = 'E'
        plan[#plan + 1] = { key = key, data = data, rev = rev, ix = ix, oldIx = v[3], id = ARGV[firstId + i - 4] }
      end
    end
  end
  codes[#codes + 1] = code
end

-- Phase 2, writes. The first is an HSET (which may grow memory), so under maxmemory a refused
-- script has written nothing (see src/store/commit.ts).
for _, p in ipairs(plan) do
  if p.ix then
    redis.call('HSET', p.key, 'data', p.data, 'rev', p.rev, 'ix', p.ix)
    -- The moves of the generic commit's diff, from the stored entries to the new ones.
    moveIndexEntries(p.oldIx, p.ix)
  else
    redis.call('HSET', p.key, 'data', p.data, 'rev', p.rev)
  end
end
if mode == 'mark' then
  for i, code in ipairs(codes) do
    if code == 'W' then redis.call('SADD', KEYS[3], ARGV[firstId + i - 1]) end
  end
  for _, p in ipairs(plan) do
    local f = {}
    for _, kv in ipairs({ { 'actor', actor }, { 'action', 'output.exported' }, { 'entity', p.id },
      { 'from', 'approved' }, { 'to', 'exported' }, { 'at', at }, { 'detail', bundleId } }) do
      if kv[2] ~= '' then f[#f + 1] = kv[1]; f[#f + 1] = kv[2] end
    end
    redis.call('XADD', KEYS[2], '*', unpack(f))
  end
end
return { 'OK', codes }
`;

/** Per output of the batch: R reserved, E exported now, A already exported by this bundle, W withdrawn (takedown), S skipped. */
export type ExportOutputCode = "R" | "E" | "A" | "W" | "S";
export type ExportOutputsResult =
  | { kind: "done"; codes: ExportOutputCode[] }
  /** The bundle is no longer at the expected revision: nothing written. */
  | { kind: "conflict"; rev: number }
  /** A record the script does not patch (or the index rules do not hold): nothing written, use the generic path. */
  | { kind: "fallback" };

type WithScript = { testimonyExportOutputs(numKeys: number, ...args: string[]): Promise<unknown> };

/**
 * The replacements that turn an approved output's stored `ix` into the exported one's, derived from
 * the key builders, and checked against the repo's own `write` for a sample output of the campaign:
 * if the output indexes ever change shape, the check fails and every batch takes the generic path.
 */
function statusRules(store: Store, campaignId: string): [string, string][] | undefined {
  const rules: [string, string][] = [
    ...["status:", `campaign:${campaignId}:status:`].map((name): [string, string] => [
      JSON.stringify(store.outputs.indexKey(`${name}approved`)),
      JSON.stringify(store.outputs.indexKey(`${name}exported`)),
    ]),
    ['"approved|', '"exported|'],
  ];
  const sample = {
    id: "o_sample",
    campaignId,
    quoteId: "q_sample",
    speakerId: "s_sample",
    locale: "xx-sample",
    narrative: "n-sample",
    format: "f-sample",
    queuedAt: "2000-01-01T00:00:00.000Z",
    status: "approved",
  } as unknown as Output;
  const approved = store.outputs.write(sample).ix;
  const exported = store.outputs.write({ ...sample, status: "exported" }).ix;
  if (approved === undefined || exported === undefined) return undefined;
  let got = approved;
  for (const [from, to] of rules) got = got.split(from).join(to);
  return got === exported && got !== approved ? rules : undefined;
}

export function createExportOutputsStore(store: Store) {
  const { redis } = store;
  if (!("testimonyExportOutputs" in redis))
    redis.defineCommand("testimonyExportOutputs", { lua: EXPORT_OUTPUTS_LUA });
  const script = redis as unknown as WithScript;
  const rulesByCampaign = new Map<string, [string, string][] | undefined>();

  async function run(
    mode: "reserve" | "mark",
    bundle: { id: string; campaignId: string; rev: number },
    ids: string[],
    opts: { at: string; actor: string; rules: [string, string][] },
  ): Promise<ExportOutputsResult> {
    if (!ids.length) return { kind: "done", codes: [] };
    const reply = (await script.testimonyExportOutputs(
      3 + ids.length,
      store.bundles.keyOf(bundle.id),
      store.keys.audit,
      store.takedownsKey(bundle.campaignId),
      ...ids.map((id) => store.outputs.keyOf(id)),
      mode,
      String(bundle.rev),
      bundle.id,
      JSON.stringify(bundle.id),
      opts.at,
      JSON.stringify(opts.at),
      opts.actor,
      String(opts.rules.length),
      ...opts.rules.flat(),
      ...ids,
    )) as [string, unknown];
    if (reply[0] === "CONFLICT") return { kind: "conflict", rev: Number(reply[1]) };
    if (reply[0] === "FALLBACK") return { kind: "fallback" };
    return { kind: "done", codes: reply[1] as ExportOutputCode[] };
  }

  return {
    /**
     * Each output of `ids` that is approved and in no bundle gets `bundleId` (revision bumped), in one
     * atomic step guarded by the bundle's revision. Others are left as they are (S).
     */
    reserve(bundle: { id: string; campaignId: string; rev: number }, ids: string[]) {
      return run("reserve", bundle, ids, { at: "", actor: "", rules: [] });
    },
    /**
     * Each output of `ids` approved with this bundle becomes exported at `at` (revision, indexes,
     * counters, one audit entry each); each withdrawn one joins the campaign's takedowns. One atomic
     * step guarded by the bundle's revision.
     */
    mark(
      bundle: { id: string; campaignId: string; rev: number },
      ids: string[],
      opts: { at: string; actor: string },
    ): Promise<ExportOutputsResult> {
      if (!rulesByCampaign.has(bundle.campaignId))
        rulesByCampaign.set(bundle.campaignId, statusRules(store, bundle.campaignId));
      const rules = rulesByCampaign.get(bundle.campaignId);
      if (!rules) return Promise.resolve({ kind: "fallback" });
      return run("mark", bundle, ids, { ...opts, rules });
    },
  };
}
export type ExportOutputsStore = ReturnType<typeof createExportOutputsStore>;
