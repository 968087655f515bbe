import type { Redis } from "ioredis";
import { type Batch, commitBatch, type EntityWrite } from "./commit.js";
import type { Keys } from "./keys.js";

export type Versioned<T> = { value: T; rev: number };

/**
 * One kind of entity stored as a hash {data: JSON, rev}, with set indexes derived from the value.
 * Repositories build on this; only the index function and the parse step differ per kind.
 */
export function createEntityRepo<T extends { id: string }>(
  redis: Redis,
  keys: Keys,
  kind: string,
  opts: { parse: (raw: unknown) => T; indexes: (value: T) => string[] },
) {
  const keyOf = (id: string) => keys.entity(kind, id);
  const indexKeys = (value: T) => [keys.all(kind), ...opts.indexes(value).map((n) => keys.index(kind, n))];

  async function get(id: string): Promise<Versioned<T> | undefined> {
    const [data, rev] = await redis.hmget(keyOf(id), "data", "rev");
    if (data == null) return undefined;
    return { value: opts.parse(JSON.parse(data)), rev: Number(rev) };
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

  /** Ids in the intersection of the named indexes (all of this kind when none is named). */
  async function ids(indexNames: string[] = []): Promise<string[]> {
    const setKeys = indexNames.length ? indexNames.map((n) => keys.index(kind, n)) : [keys.all(kind)];
    const found = setKeys.length === 1 ? await redis.smembers(setKeys[0]!) : await redis.sinter(...setKeys);
    return found.sort();
  }

  /** The write that turns `previous` (or nothing) into `next`, moving it between indexes. */
  function write(next: T, previous?: Versioned<T>): EntityWrite {
    const after = indexKeys(next);
    const before = previous ? indexKeys(previous.value) : [];
    return {
      key: keyOf(next.id),
      id: next.id,
      expect: previous ? previous.rev : 0,
      data: JSON.stringify(next),
      srem: before.filter((k) => !after.includes(k)),
      sadd: after.filter((k) => !before.includes(k)),
    };
  }

  return {
    kind,
    keyOf,
    get,
    getMany,
    ids,
    write,
    async list(indexNames: string[] = []): Promise<T[]> {
      return (await getMany(await ids(indexNames))).map((v) => v.value);
    },
    commit: (batch: Batch) => commitBatch(redis, keys, batch),
  };
}
export type EntityRepo<T extends { id: string }> = ReturnType<typeof createEntityRepo<T>>;
