import type { Redis } from "ioredis";

/** CPU seconds redis-server has used so far (user + system, from INFO cpu). */
export async function redisCpuSeconds(redis: Redis): Promise<number> {
  return (await redisStats(redis)).cpuSeconds;
}

/** What a Redis has done so far, from one INFO call (cpu, stats, commandstats). */
export type RedisStats = {
  /** used_cpu_user + used_cpu_sys: every thread of redis-server. */
  cpuSeconds: number;
  /** Commands executed, per command (INFO commandstats calls): includes the ones scripts run. */
  calls: Record<string, number>;
  /** Microseconds spent per command (INFO commandstats usec; a script's usec includes its commands). */
  usec: Record<string, number>;
  /** total_reads_processed: reads from client sockets, i.e. requests (or pipelined batches) received. */
  reads: number;
};

export async function redisStats(redis: Redis): Promise<RedisStats> {
  const info = await redis.info("everything");
  const field = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, "m").exec(info)?.[1] ?? Number.NaN);
  const calls: Record<string, number> = {};
  const usec: Record<string, number> = {};
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    calls[m[1]!] = Number(m[2]);
    usec[m[1]!] = Number(m[3]);
  }
  return {
    cpuSeconds: field("used_cpu_user") + field("used_cpu_sys"),
    calls,
    usec,
    reads: field("total_reads_processed"),
  };
}

/** Commands scripts are called with: each one is one request of a client, whatever it runs inside. */
const SCRIPT_CALLS = new Set(["evalsha", "eval", "evalsha_ro", "eval_ro", "fcall", "fcall_ro"]);

/**
 * What happened between two snapshots, less what the bench itself asked (its INFO calls and its
 * polling, given as `own` command counts and `ownReads` requests).
 */
export function redisDelta(
  a: RedisStats,
  b: RedisStats,
  own: { calls: Record<string, number>; reads: number },
): RedisDelta {
  const calls: Record<string, number> = {};
  const usec: Record<string, number> = {};
  for (const [cmd, n] of Object.entries(b.calls)) {
    const d = n - (a.calls[cmd] ?? 0) - (own.calls[cmd] ?? 0);
    if (d > 0) calls[cmd] = d;
    const u = (b.usec[cmd] ?? 0) - (a.usec[cmd] ?? 0);
    if (u > 0 && d > 0) usec[cmd] = u;
  }
  const total = Object.values(calls).reduce((s, n) => s + n, 0);
  const scripts = Object.entries(calls)
    .filter(([c]) => SCRIPT_CALLS.has(c))
    .reduce((s, [, n]) => s + n, 0);
  return {
    cpuSeconds: b.cpuSeconds - a.cpuSeconds,
    commands: total,
    scripts,
    reads: b.reads - a.reads - own.reads,
    calls,
    usec,
  };
}

export type RedisDelta = {
  cpuSeconds: number;
  /** Every command executed, including those scripts ran. */
  commands: number;
  /** Script calls (EVALSHA and the like) among them. */
  scripts: number;
  /** Requests received (socket reads): the round trips, counting a pipelined batch once. */
  reads: number;
  calls: Record<string, number>;
  usec: Record<string, number>;
};
