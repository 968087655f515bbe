import { Redis, type RedisOptions } from "ioredis";
import { AppError } from "../domain/errors.js";
import type { Logger } from "../logger.js";

/** Every command waits at most this long for Redis, also on a server that accepts and never answers. */
export const REDIS_DEADLINE_MS = 5000;

declare const connectionKind: unique symbol;
/** Fails fast with a deadline: for the CLI, the API and every producer. Never handed to a BullMQ consumer. */
export type CommandRedis = Redis & { readonly [connectionKind]: "command" };
/** Waits forever and rides out restarts (`maxRetriesPerRequest: null`): only for BullMQ workers and QueueEvents. */
export type BlockingRedis = Redis & { readonly [connectionKind]: "blocking" };

type Kind = "command" | "worker";

/**
 * Two kinds of connection, two types, so a command connection cannot reach a BullMQ consumer (BullMQ
 * refuses one with `maxRetriesPerRequest` set). `reconnect: false` is for one-shot commands: a person
 * gets the reason at once instead of retries.
 */
export function connectRedis(
  url: string,
  kind: "command",
  opts?: { reconnect?: boolean; deadlineMs?: number },
): CommandRedis;
export function connectRedis(url: string, kind: "worker"): BlockingRedis;
export function connectRedis(
  url: string,
  kind: Kind,
  opts: { reconnect?: boolean; deadlineMs?: number } = {},
): Redis {
  const deadlineMs = opts.deadlineMs ?? REDIS_DEADLINE_MS;
  const options: RedisOptions =
    kind === "worker"
      ? { maxRetriesPerRequest: null, enableReadyCheck: true, connectTimeout: REDIS_DEADLINE_MS }
      : {
          maxRetriesPerRequest: 1,
          enableOfflineQueue: true,
          connectTimeout: deadlineMs,
          commandTimeout: deadlineMs,
          ...(opts.reconnect === false
            ? // One-shot: no reconnecting, and no CLIENT SETINFO whose timer would outlive a frozen server.
              { retryStrategy: () => null, disableClientInfo: true }
            : {}),
        };
  return new Redis(url, { lazyConnect: false, ...options });
}

/** The URL as it may be printed: a password never reaches a terminal or a log. */
export function printableRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString().replace(/\/$/, "");
  } catch {
    return "(unparseable REDIS_URL)";
  }
}

/** Redis could not be reached or did not answer: an `unavailable` error that names the server and the ways out. */
export function redisUnreachable(url: string, reason: string): AppError {
  return new AppError(
    "unavailable",
    `cannot reach Redis at ${printableRedisUrl(url)}: ${reason}. Start one with \`bash scripts/ensure-redis.sh\` (or \`docker compose up -d redis\`), or set REDIS_URL.`,
  );
}

/**
 * The one classifier of Redis trouble, used by the CLI, the API and the workers' backoff: `oom` (out of
 * memory under noeviction: writes refused), `unreachable` (refused, reset, timed out, closed) or
 * `refused` (READONLY, MISCONF, LOADING, BUSY: a server that will take writes again by itself).
 * Anything else is not Redis trouble but a bug or bad input, and undefined here.
 */
export function redisFault(err: unknown): "oom" | "unreachable" | "refused" | undefined {
  const e = err as { name?: string; code?: string; message?: string } | undefined;
  const message = e?.message ?? "";
  if (/^OOM\b/.test(message) || message.includes("used memory > 'maxmemory'")) return "oom";
  if (
    e?.name === "MaxRetriesPerRequestError" ||
    ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH"].includes(
      e?.code ?? "",
    ) ||
    /Connection is closed|Stream isn't writeable|Command timed out|connect ETIMEDOUT/.test(message)
  )
    return "unreachable";
  if (/^(READONLY|MISCONF|LOADING|BUSY)\b/.test(message)) return "refused";
  return undefined;
}

/**
 * Resolves once Redis answers a PING, or rejects within `deadlineMs` with `cannot reach Redis at …` and
 * the last reason seen (refused, unknown host, or no answer from a server that accepts connections).
 */
export async function reachRedis(redis: Redis, url: string, deadlineMs = REDIS_DEADLINE_MS): Promise<void> {
  let lastError: string | undefined;
  const onError = (err: Error) => {
    lastError = err.message;
  };
  redis.on("error", onError);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("deadline")), deadlineMs);
      }),
    ]);
  } catch (err) {
    const reason =
      lastError && lastError !== "Command timed out"
        ? lastError
        : `no answer within ${deadlineMs / 1000} s (the server accepts connections but does not reply)`;
    throw redisUnreachable(url, (err as Error).message === "deadline" ? reason : (lastError ?? reason));
  } finally {
    clearTimeout(timer);
    redis.off("error", onError);
  }
}

/** BullMQ and our own data both need every write kept: an evicting Redis silently loses jobs and reviews. */
export async function warnUnlessNoEviction(redis: Redis, log: Logger): Promise<void> {
  try {
    const reply = (await redis.config("GET", "maxmemory-policy")) as string[];
    const policy = reply[1];
    if (policy && policy !== "noeviction") {
      log.warn(
        { policy },
        "Redis maxmemory-policy is not noeviction: keys may be evicted under memory pressure",
      );
    }
  } catch {
    // Managed Redis often forbids CONFIG; nothing to check then.
  }
}
