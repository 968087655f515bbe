/**
 * Every key shares one hash tag, `{prefix}`, so a Redis Cluster keeps them in one slot and the
 * multi-key Lua scripts and MULTI blocks below stay legal there.
 */
export function createKeys(prefix: string) {
  const tag = `{${prefix}}`;
  return {
    tag,
    /** BullMQ's own prefix: its keys land in the same slot as ours. */
    bullPrefix: `${tag}:bull`,
    entity: (kind: string, id: string) => `${tag}:${kind}:${id}`,
    index: (kind: string, name: string) => `${tag}:idx:${kind}:${name}`,
    all: (kind: string) => `${tag}:idx:${kind}:all`,
    /** Sorted indexes (ZSETs, all scores 0, members `sortKey|id`): pages in order, by cursor. */
    sorted: (kind: string, name: string) => `${tag}:zidx:${kind}:${name}`,
    /** Counters kept in the same commits as the entities: a hash of field → count. */
    counts: (kind: string, name: string) => `${tag}:cnt:${kind}:${name}`,
    /** Which layout a kind's indexes have been rebuilt to. */
    indexVersion: (kind: string) => `${tag}:ixver:${kind}`,
    audit: `${tag}:audit`,
    pattern: `${tag}:*`,
    misc: (name: string) => `${tag}:${name}`,
  };
}
export type Keys = ReturnType<typeof createKeys>;
