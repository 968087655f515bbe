/** What a Redis keeps across a restart, as read at connect (src/store/persistence.ts). */
export type Persistence =
  | { readable: false; error: string }
  | { readable: true; aof: boolean; appendfsync: string; rdbSave: string };

export type PersistenceVerdict = { level: "ok" | "warn" | "refuse"; message: string };

/**
 * Whether the long-running roles may start on this Redis. Without AOF a Redis restart loses every
 * acknowledged approval and consent withdrawal since the last snapshot: refused unless the operator
 * says the Redis is volatile on purpose (ALLOW_VOLATILE_REDIS=1: tests, a shared development Redis).
 * AOF with appendfsync everysec (or no) can lose about the last second on an OS crash or power loss: a
 * warning. AOF with appendfsync always keeps every acknowledged write: ok.
 */
export function persistenceVerdict(p: Persistence, opts: { allowVolatile: boolean }): PersistenceVerdict {
  if (!p.readable) {
    return {
      level: "warn",
      message: `could not read Redis persistence settings (${p.error}); make sure it runs with appendonly yes and appendfsync always`,
    };
  }
  const found = `appendonly ${p.aof ? "yes" : "no"}, appendfsync ${p.appendfsync}, save "${p.rdbSave}"`;
  if (!p.aof) {
    const loss = "a Redis restart loses acknowledged approvals and consent withdrawals";
    return opts.allowVolatile
      ? {
          level: "warn",
          message: `Redis persistence: ${found}: ${loss}; running anyway (ALLOW_VOLATILE_REDIS=1)`,
        }
      : {
          level: "refuse",
          message: `Redis persistence: ${found}: ${loss}. Run Redis with appendonly yes and appendfsync always (scripts/ensure-redis.sh and docker-compose.yml do), or set ALLOW_VOLATILE_REDIS=1 for tests and development`,
        };
  }
  if (p.appendfsync !== "always") {
    return {
      level: "warn",
      message: `Redis persistence: ${found}: an OS crash or power loss can lose about the last second of acknowledged writes; appendfsync always keeps them`,
    };
  }
  return { level: "ok", message: `Redis persistence: ${found}` };
}
