import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import { AppError } from "../domain/errors.js";
import { type Batch, commitBatch, type EntityWrite, type IxDiff, type RawOp } from "./commit.js";
import type { Keys } from "./keys.js";

export type Versioned<T> = { value: T; rev: number };

/** A position in a sorted index: the entity's sort key, then its id. */
export type IndexPosition = { sortKey: string; id: string };

export type Page<T> = {
  items: T[];
  /** Where the next page starts; absent at the end. */
  next?: IndexPosition;
};

/**
 * Layout version of the sorted indexes and counters. A store without this version's marker is
 * rebuilt from its entities before its first read (see `ensureIndexes`).
 */
const INDEX_VERSION = "1";
/** At most this many index entries are examined per page when several filters combine. */
const MAX_SCAN = 20_000;
/**
 * The sorted index of a kind with `searchText`: members `sortKey|id` + TEXT_SEP + the text, so a
 * search reads ids and texts in list order in one ZRANGE instead of every entity's JSON. A space
 * sorts below every id character ([a-z0-9_-]), so this index keeps the order of the others.
 */
const TEXT_INDEX = "~text";
const TEXT_SEP = " ";
/** Text index entries one search script call looks at: a few milliseconds of Redis time at most. */
const SEARCH_CHUNK = 5000;

/**
 * One step of a text search, in Redis so that only the matches travel: KEYS[1] the text index,
 * KEYS[2..] the filters' indexes; ARGV from (a ZRANGE BYLEX bound), count, needle, limit. Walks at
 * most `count` entries from `from`, keeps those whose text holds the needle (a byte substring of
 * text folded by the caller, as the needle is: the same answer as String.includes on UTF-8) and
 * that every filter index holds, and stops at `limit` matches. Returns the matches (`sortKey|id`),
 * how many entries it looked at, the last of them, and 1 when entries follow it.
 */
const SEARCH_LUA = `
local count, needle, limit = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local rows = redis.call('ZRANGE', KEYS[1], ARGV[1], '+', 'BYLEX', 'LIMIT', 0, count + 1)
local n = math.min(#rows, count)
local hits, scanned, last = {}, 0, ''
for i = 1, n do
  local raw = rows[i]
  local cut = string.find(raw, ' ', (string.find(raw, '|', 1, true) or 0) + 1, true) or (#raw + 1)
  scanned, last = i, string.sub(raw, 1, cut - 1)
  if string.find(raw, needle, cut + 1, true) then
    local ok = true
    for k = 2, #KEYS do
      if not redis.call('ZSCORE', KEYS[k], last) then ok = false break end
    end
    if ok then
      hits[#hits + 1] = last
      if #hits == limit then break end
    end
  end
end
local more = 0
if scanned < n or #rows > count then more = 1 end
return { hits, scanned, last, more }
`;

type Ix = { z: [string, string][]; c: [string, string][] };

/**
 * One kind of entity stored as a hash {data: JSON, rev}, with indexes derived from the value.
 * Repositories build on this; only the index function and the parse step differ per kind.
 *
 * Indexes are sets, or, for a kind with a `sortKey`, sorted sets (all scores 0, members
 * `sortKey|id`) read a page at a time from a cursor. `counters` are kept in the same atomic commit:
 * each entity remembers which entries and counter fields it contributes, so the commit script moves
 * only what changed and a rebuild of one entity is the same step again.
 */
export function createEntityRepo<T extends { id: string }>(
  redis: Redis,
  keys: Keys,
  kind: string,
  opts: {
    parse: (raw: unknown) => T;
    indexes: (value: T) => string[];
    sortKey?: (value: T) => string;
    counters?: (value: T) => [name: string, field: string][];
    /** Text kept, already normalised (lower case), in a sorted index of its own for `search`. */
    searchText?: (value: T) => string;
    /**
     * This kind's own layout, beside INDEX_VERSION: changing it (a kind gaining a sort key, say)
     * rebuilds that kind's indexes on first read, even in a store already at INDEX_VERSION.
     */
    layout?: string;
  },
) {
  const sorted = opts.sortKey;
  const tracked = Boolean(sorted || opts.counters);
  const keyOf = (id: string) => keys.entity(kind, id);
  const setKeys = (value: T) => [keys.all(kind), ...opts.indexes(value).map((n) => keys.index(kind, n))];
  const indexKey = (name: string) => (sorted ? keys.sorted(kind, name) : keys.index(kind, name));
  const allKey = sorted ? keys.sorted(kind, "all") : keys.all(kind);
  const member = (p: IndexPosition) => `${p.sortKey}|${p.id}`;
  const position = (m: string): IndexPosition => {
    const at = m.indexOf("|");
    return { sortKey: m.slice(0, at), id: m.slice(at + 1) };
  };

  function ixOf(value: T): Ix {
    const z: [string, string][] = [];
    if (sorted) {
      const m = member({ sortKey: sorted(value), id: value.id });
      for (const name of ["all", ...opts.indexes(value)]) z.push([keys.sorted(kind, name), m]);
      if (opts.searchText)
        z.push([keys.sorted(kind, TEXT_INDEX), `${m}${TEXT_SEP}${opts.searchText(value)}`]);
    }
    const c = (opts.counters?.(value) ?? []).map(
      ([name, field]) => [keys.counts(kind, name), field] as [string, string],
    );
    return { z, c };
  }
  const ixKeysOf = (ix: Ix) => [...ix.z.map((e) => e[0]), ...ix.c.map((e) => e[0])];

  /**
   * The moves from `old` (the previous value's entries, none for a new entity) to `next`: what the
   * commit script would work out by diffing the stored set, which it does itself only if the stored
   * set is not `old` (its digest differs), so a caller's stale idea of `old` can never misplace an entry.
   */
  function ixDiff(old: Ix | undefined, next: Ix): IxDiff {
    const oz = new Map((old?.z ?? []).map(([k, m]) => [k, m]));
    const nz = new Map(next.z.map(([k, m]) => [k, m]));
    const cid = ([k, f]: [string, string]) => `${k}\n${f}`;
    const oc = new Map((old?.c ?? []).map((c) => [cid(c), c]));
    const nc = new Map(next.c.map((c) => [cid(c), c]));
    return {
      old: createHash("sha1")
        .update(old ? JSON.stringify(old) : "")
        .digest("hex"),
      zrem: [...oz].filter(([k, m]) => nz.get(k) !== m),
      zadd: [...nz].filter(([k, m]) => oz.get(k) !== m),
      cdec: [...oc].filter(([id]) => !nc.has(id)).map(([, c]) => c),
      cinc: [...nc].filter(([id]) => !oc.has(id)).map(([, c]) => c),
    };
  }

  let ready: Promise<void> | undefined;
  /** Before the first read: rebuild the sorted indexes and counters if this store predates them. */
  function ensureIndexes(): Promise<void> {
    if (!tracked) return Promise.resolve();
    ready ??= (async () => {
      const version = opts.layout ? `${INDEX_VERSION}.${opts.layout}` : INDEX_VERSION;
      if ((await redis.get(keys.indexVersion(kind))) === version) return;
      await rebuildIndexes();
      await redis.set(keys.indexVersion(kind), version);
    })().catch((err) => {
      ready = undefined;
      throw err;
    });
    return ready;
  }

  /**
   * Recomputes every entity's sorted-index entries and counters from its stored value (entities
   * listed in the set index of earlier versions, and in the sorted one): idempotent, safe beside
   * live commits (each entity is redone only at the revision it was read at). Drops the set
   * indexes a sorted kind no longer keeps. Returns how many entities were looked at.
   */
  async function rebuildIndexes(): Promise<number> {
    let n = 0;
    let legacy = false;
    let cursor = "0";
    do {
      const [next, ids] = await redis.sscan(keys.all(kind), cursor, "COUNT", 500);
      cursor = next;
      if (ids.length) legacy = true;
      n += await reindex(ids);
    } while (cursor !== "0");
    if (sorted) {
      let from = "-";
      for (;;) {
        const members = await redis.zrange(allKey, from, "+", "BYLEX", "LIMIT", 0, 500);
        if (!members.length) break;
        n += await reindex(members.map((m) => position(m).id));
        from = `(${members.at(-1)}`;
      }
      if (legacy) await dropLegacySets();
    }
    return n;
  }

  async function reindex(ids: string[]): Promise<number> {
    if (!ids.length) return 0;
    for (let attempt = 0; ; attempt++) {
      const found = await getMany(ids);
      const writes: EntityWrite[] = found.map((v) => {
        const ix = ixOf(v.value);
        return {
          key: keyOf(v.value.id),
          id: v.value.id,
          expect: v.rev,
          data: "",
          srem: [],
          sadd: [],
          ix: JSON.stringify(ix),
          ixKeys: ixKeysOf(ix),
          reindex: true,
        };
      });
      try {
        await commitBatch(redis, keys, { writes });
        return found.length;
      } catch (err) {
        // Someone changed one of them meanwhile (their commit set its entries): read again.
        if (!(err instanceof AppError && err.code === "conflict") || attempt >= 20) throw err;
      }
    }
  }

  async function dropLegacySets() {
    let cursor = "0";
    do {
      const [next, found] = await redis.scan(cursor, "MATCH", `${keys.index(kind, "*")}`, "COUNT", 1000);
      cursor = next;
      if (found.length) await redis.unlink(...found);
    } while (cursor !== "0");
    await redis.unlink(keys.all(kind));
  }

  async function get(id: string): Promise<Versioned<T> | undefined> {
    const [data, rev] = await redis.hmget(keyOf(id), "data", "rev");
    if (data == null) return undefined;
    return { value: opts.parse(JSON.parse(data)), rev: Number(rev) };
  }

  /**
   * A write that changes nothing and only checks that the entity is still at `current.rev`: a
   * batch carrying it is refused (conflict) once anyone else has written the entity meanwhile.
   */
  function guard(current: Versioned<T>): EntityWrite {
    const id = current.value.id;
    return { key: keyOf(id), id, expect: current.rev, data: "", srem: [], sadd: [], reindex: true };
  }

  async function getMany(ids: string[]): Promise<Versioned<T>[]> {
    if (ids.length === 0) return [];
    const pipe = redis.pipeline();
    for (const id of ids) pipe.hmget(keyOf(id), "data", "rev");
    const replies = (await pipe.exec()) ?? [];
    const out: Versioned<T>[] = [];
    for (const [err, reply] of replies) {
      if (err) throw err;
      const [data, rev] = reply as [string | null, string | null];
      if (data != null) out.push({ value: opts.parse(JSON.parse(data)), rev: Number(rev) });
    }
    return out;
  }

  /** Ids in the intersection of the named indexes (all of this kind when none is named), by id. */
  async function ids(indexNames: string[] = []): Promise<string[]> {
    await ensureIndexes();
    const ks = indexNames.length ? indexNames.map(indexKey) : [allKey];
    if (!sorted) {
      const found = ks.length === 1 ? await redis.smembers(ks[0]!) : await redis.sinter(...ks);
      return found.sort();
    }
    const found = ks.length === 1 ? await redis.zrange(ks[0]!, 0, -1) : await redis.zinter(ks.length, ...ks);
    return found.map((m) => position(m).id).sort();
  }

  /** How many entities are in all the named indexes: O(1) for one index. */
  async function count(indexNames: string[] = []): Promise<number> {
    await ensureIndexes();
    const ks = indexNames.length ? indexNames.map(indexKey) : [allKey];
    if (ks.length === 1) return sorted ? redis.zcard(ks[0]!) : redis.scard(ks[0]!);
    const n = await redis.call(sorted ? "ZINTERCARD" : "SINTERCARD", ks.length, ...ks);
    return Number(n);
  }

  /**
   * One page of the entities in all the named indexes, in sort-key order, after `after`. The
   * smallest named index is walked from the cursor; the others are checked by membership, so a
   * page costs O(page) for one index and O(what is skipped) for combined ones, at most MAX_SCAN
   * entries: a page may then come back short, with a cursor to go on from.
   */
  async function page(
    indexNames: string[],
    o: { after?: IndexPosition; limit: number },
  ): Promise<Page<Versioned<T>>> {
    if (!sorted) throw new Error(`${kind} has no sorted indexes`);
    await ensureIndexes();
    let ks = indexNames.length ? [...new Set(indexNames)].map(indexKey) : [allKey];
    if (ks.length > 1) {
      const pipe = redis.pipeline();
      for (const k of ks) pipe.zcard(k);
      const sizes = ((await pipe.exec()) ?? []).map(([err, n]) => {
        if (err) throw err;
        return Number(n);
      });
      const smallest = sizes.indexOf(Math.min(...sizes));
      ks = [ks[smallest]!, ...ks.filter((_, i) => i !== smallest)];
    }
    const [primary, ...others] = ks as [string, ...string[]];
    const chunk = others.length ? Math.min(Math.max(4 * o.limit, 200), 2000) : o.limit + 1;
    const found: string[] = [];
    let from = o.after ? `(${member(o.after)}` : "-";
    let scanned = 0;
    let lastScanned: string | undefined;
    let more = false;
    for (;;) {
      const members = await redis.zrange(primary, from, "+", "BYLEX", "LIMIT", 0, chunk);
      let keep = members;
      if (others.length && members.length) {
        const pipe = redis.pipeline();
        for (const k of others) pipe.zmscore(k, ...members);
        const replies = ((await pipe.exec()) ?? []).map(([err, scores]) => {
          if (err) throw err;
          return scores as (string | null)[];
        });
        keep = members.filter((_, i) => replies.every((r) => r[i] != null));
      }
      for (const m of keep) {
        if (found.length === o.limit) {
          more = true;
          break;
        }
        found.push(m);
      }
      scanned += members.length;
      lastScanned = members.at(-1);
      if (more || members.length < chunk) break;
      if (scanned >= MAX_SCAN) {
        // Bounded work per request: the caller goes on from the last entry looked at.
        more = true;
        break;
      }
      from = `(${lastScanned}`;
    }
    const items = await getMany(found.map((m) => position(m).id));
    const resume = found.length === o.limit ? found.at(-1) : lastScanned;
    return { items, next: more && resume ? position(resume) : undefined };
  }

  /**
   * Entities whose search text contains `needle` (already normalised as `searchText` is) and that
   * are in all the named indexes, in list order from `after`. A script walks the text index in
   * Redis, at most `window` entries per call (SEARCH_CHUNK per step), checks the other indexes only
   * for the matches and returns just those; then only the matching entities are read. `next` is where to go on: after the last match of a full
   * page, or after the last entry looked at when the window ended first.
   */
  async function search(
    indexNames: string[],
    needle: string,
    o: { after?: IndexPosition; limit: number; window: number },
  ): Promise<Page<Versioned<T>> & { scanned: number; windowFull: boolean }> {
    if (!sorted || !opts.searchText) throw new Error(`${kind} has no text index`);
    await ensureIndexes();
    const others = [...new Set(indexNames)].map(indexKey);
    const textKey = keys.sorted(kind, TEXT_INDEX);
    // Exclusive start after every member of the cursor's entry (`sortKey|id` + TEXT_SEP + text):
    // '!' sorts just above TEXT_SEP and below every id character.
    let from = o.after ? `(${member(o.after)}!` : "-";
    const found: string[] = [];
    const done = async (next: IndexPosition | undefined, scanned: number, windowFull = false) => ({
      items: await getMany(found.map((m) => position(m).id)),
      next,
      scanned,
      windowFull,
    });
    if (!("testimonySearch" in redis)) redis.defineCommand("testimonySearch", { lua: SEARCH_LUA });
    const run = (redis as unknown as { testimonySearch(...a: (string | number)[]): Promise<unknown> })
      .testimonySearch;
    let scanned = 0;
    for (;;) {
      const count = Math.max(1, Math.min(SEARCH_CHUNK, o.window - scanned));
      const [hits, looked, last, more] = (await run.call(
        redis,
        1 + others.length,
        textKey,
        ...others,
        from,
        count,
        needle,
        o.limit - found.length,
      )) as [string[], number, string, number];
      found.push(...hits);
      scanned += looked;
      if (found.length === o.limit) return done(more ? position(found.at(-1)!) : undefined, scanned);
      if (!more || !last) return done(undefined, scanned);
      if (scanned >= o.window) return done(position(last), scanned, true);
      from = `(${last}!`;
    }
  }

  /** The `n` last entities of one sorted index (latest sort key first). */
  async function latest(indexName: string, n: number): Promise<Versioned<T>[]> {
    if (!sorted) throw new Error(`${kind} has no sorted indexes`);
    await ensureIndexes();
    const members = await redis.zrange(indexKey(indexName), "+", "-", "BYLEX", "REV", "LIMIT", 0, n);
    return getMany(members.map((m) => position(m).id));
  }

  /** The counters of one name: field → count (absent fields are 0). */
  async function counts(name: string): Promise<Record<string, number>> {
    await ensureIndexes();
    const raw = await redis.hgetall(keys.counts(kind, name));
    return Object.fromEntries(Object.entries(raw).map(([f, n]) => [f, Number(n)]));
  }

  /** The write that turns `previous` (or nothing) into `next`, moving it between indexes. */
  function write(next: T, previous?: Versioned<T>): EntityWrite {
    const base = {
      key: keyOf(next.id),
      id: next.id,
      expect: previous ? previous.rev : 0,
      data: JSON.stringify(next),
    };
    const ix = tracked ? ixOf(next) : undefined;
    const old = ix && previous ? ixOf(previous.value) : undefined;
    const ixFields = ix && {
      ix: JSON.stringify(ix),
      ixKeys: [...new Set([...(old ? ixKeysOf(old) : []), ...ixKeysOf(ix)])],
      ixDiff: ixDiff(old, ix),
    };
    if (sorted) return { ...base, srem: [], sadd: [], ...ixFields };
    const after = setKeys(next);
    const before = previous ? setKeys(previous.value) : [];
    return {
      ...base,
      srem: before.filter((k) => !after.includes(k)),
      sadd: after.filter((k) => !before.includes(k)),
      ...ixFields,
    };
  }

  /**
   * The ops that delete an entity and its set-index entries, for a commit's `ops` (with its audit
   * entries). Only for kinds without sorted indexes or counters, whose entries the commit script
   * would otherwise have to unwind; no revision check, so only for values that never change.
   */
  function removal(v: Versioned<T>): RawOp[] {
    if (tracked) throw new Error(`${kind} keeps sorted indexes or counters; removal is not supported`);
    return [["DEL", keyOf(v.value.id)], ...setKeys(v.value).map((k): RawOp => ["SREM", k, v.value.id])];
  }

  return {
    kind,
    keyOf,
    /** The key of a named index (to read in a commit's `read`). */
    indexKey,
    /** An entity from the `data` field of its hash (as a commit's `read` returns it). */
    decode: (data: string): T => opts.parse(JSON.parse(data)),
    removal,
    get,
    getMany,
    ids,
    count,
    page,
    search,
    latest,
    counts,
    write,
    guard,
    ensureIndexes,
    rebuildIndexes,
    async list(indexNames: string[] = []): Promise<T[]> {
      return (await getMany(await ids(indexNames))).map((v) => v.value);
    },
    commit: (batch: Batch) => commitBatch(redis, keys, batch),
  };
}
export type EntityRepo<T extends { id: string }> = ReturnType<typeof createEntityRepo<T>>;
