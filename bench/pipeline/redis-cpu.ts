import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import type { Redis } from "ioredis";
import { COMMIT_LUA } from "../../src/store/commit.js";
import { EXPORT_OUTPUTS_LUA } from "../../src/store/export-outputs.store.js";

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
  /** BENCH_REDIS_SPLIT=1: requests and wall µs so far per script and use (see `SPLIT`). */
  split: SplitTotals;
};

export async function redisStats(redis: Redis): Promise<RedisStats> {
  const split = structuredClone(await drainSlowlog(redis));
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
    split,
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
  const split: SplitTotals = {};
  for (const [label, t] of Object.entries(b.split)) {
    const was = a.split[label];
    const calls = t.calls - (was?.calls ?? 0);
    if (!label || calls <= 0) continue;
    const inner: Record<string, number> = {};
    for (const [c, u] of Object.entries(t.inner)) inner[c] = u - (was?.inner[c] ?? 0);
    split[label] = { calls, usec: t.usec - (was?.usec ?? 0), inner };
  }
  return {
    cpuSeconds: b.cpuSeconds - a.cpuSeconds,
    commands: total,
    scripts,
    reads: b.reads - a.reads - own.reads,
    calls,
    usec,
    split,
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
  /** BENCH_REDIS_SPLIT=1: requests and wall µs per script and use, and µs per command inside (else empty). */
  split: SplitTotals;
};

/**
 * BENCH_REDIS_SPLIT=1: where Redis's time goes per script and use. The private redis-server logs
 * every request (SLOWLOG at threshold 0: one entry per request, a script counted once with what it
 * runs inside); each `redisStats` drains the log into running totals per label. Wall µs inside the
 * request (on a quiet machine close to CPU), so the report shares out `INFO cpu` in their proportion.
 * Off by default: logging every request costs Redis a little CPU of its own.
 */
export const SPLIT = process.env.BENCH_REDIS_SPLIT === "1";
const splitTotals = new WeakMap<Redis, SplitTotals>();
let scriptNames: Map<string, string> | undefined;

async function namesBySha(): Promise<Map<string, string>> {
  if (scriptNames) return scriptNames;
  const sha = (s: string) => createHash("sha1").update(s).digest("hex");
  const names = new Map<string, string>();
  const req = createRequire(import.meta.url);
  const bull = req("bullmq/dist/cjs/scripts/index.js") as Record<string, { name: string; content: string }>;
  for (const s of Object.values(bull)) if (s?.content) names.set(sha(s.content), `bullmq ${s.name}`);
  names.set(sha(COMMIT_LUA), "commit");
  names.set(sha(EXPORT_OUTPUTS_LUA), "export: reserve / mark by id");
  scriptNames = names;
  return names;
}

/** A commit's use, from what it declares (Redis keeps only a request's first 32 arguments). */
function commitUse(args: string[]): string {
  const keys = Number(args[2]);
  if (keys > 40) return "commit: batch (queue, approve, export)";
  // The "rendering" commit also reads the quote, speaker and campaign hashes.
  if (args.slice(3, 3 + keys).some((k) => /\}:quote:/.test(k))) return "commit: rendering";
  return "commit: one output (in_review, failed, other)";
}

type SplitTotals = Record<string, { calls: number; usec: number; inner: Record<string, number> }>;

async function drainSlowlog(redis: Redis): Promise<SplitTotals> {
  const totals = splitTotals.get(redis) ?? {};
  splitTotals.set(redis, totals);
  if (!SPLIT) return totals;
  const names = await namesBySha();
  if (!Object.keys(totals).length)
    await redis.config("SET", "slowlog-log-slower-than", "0", "slowlog-max-len", "1000000");
  const reply = (await redis.multi().slowlog("GET", -1).slowlog("RESET").exec()) ?? [];
  const entries = (reply[0]?.[1] ?? []) as [number, number, number, string[], string][];
  // Oldest first: a script's own commands (logged from a client without an address) come just
  // before the script's entry, Redis running one request at a time.
  let inner: Record<string, number> = {};
  for (const [, , usec, args, addr] of [...entries].reverse()) {
    const cmd = String(args[0]).toLowerCase();
    if (!addr || addr.startsWith("?")) {
      inner[cmd] = (inner[cmd] ?? 0) + usec;
      continue;
    }
    let label = cmd;
    if (cmd === "evalsha") {
      const name = names.get(String(args[1])) ?? `script ${String(args[1]).slice(0, 8)}`;
      label = name === "commit" ? commitUse(args) : name;
    }
    totals[label] ??= { calls: 0, usec: 0, inner: {} };
    const t = totals[label]!;
    t.calls++;
    t.usec += usec;
    for (const [c, u] of Object.entries(inner)) t.inner[c] = (t.inner[c] ?? 0) + u;
    inner = {};
  }
  totals[""] ??= { calls: 0, usec: 0, inner: {} };
  return totals;
}
