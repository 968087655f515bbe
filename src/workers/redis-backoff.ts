import type { Worker } from "bullmq";
import type { Logger } from "../logger.js";
import { redisFault as storeRedisFault } from "../store/redis.js";

/** Redis trouble as the store classifies it, and any other reply error Redis sends a worker's command. */
function redisFault(err: unknown): "oom" | "unreachable" | "refused" | undefined {
  return storeRedisFault(err) ?? ((err as Error | undefined)?.name === "ReplyError" ? "refused" : undefined);
}

/** Exponential delays: base, 2×, 4×, ... up to max; reset after a success. */
export function exponentialBackoff(opts: { baseMs: number; maxMs: number }) {
  let n = 0;
  return {
    next: () => Math.min(opts.maxMs, opts.baseMs * 2 ** n++),
    reset: () => {
      n = 0;
    },
    get failures() {
      return n;
    },
  };
}

export type BackoffOptions = { baseMs?: number; maxMs?: number };

/**
 * BullMQ's fetch loop retries a command Redis refuses (out of memory above all) at once, forever: a
 * render worker wrote ~2,500 error lines a second. This pauses the worker locally on such an error and
 * resumes it after an exponential delay (1 s, 2 s, ... 30 s), logging one line per interval with how
 * many errors it saw; a job that completes (or fails on its own) resets it, with one line saying so. A job whose own Redis
 * call fails goes through `jobFailed`, so it pauses the worker too instead of logging a line per job.
 */
export function backOffOnRedisErrors(worker: Worker, log: Logger, what: string, opts: BackoffOptions = {}) {
  const backoff = exponentialBackoff({ baseMs: opts.baseMs ?? 1000, maxMs: opts.maxMs ?? 30_000 });
  let timer: NodeJS.Timeout | undefined;
  let seen = 0;
  let closing = false;
  let lastError = "";

  const resume = () => {
    timer = undefined;
    if (!closing) void worker.resume();
  };

  /** Counts a Redis fault; the first of an interval pauses the worker and logs one line. */
  const fault = (err: unknown): boolean => {
    const kind = redisFault(err);
    if (!kind) return false;
    seen++;
    lastError = (err as Error).message;
    if (closing || timer) return true; // already backing off: counted, logged with the next interval
    const delayMs = backoff.next();
    log.warn(
      { fault: kind, errors: seen, retryInMs: delayMs, lastError },
      `${what}: Redis ${kind === "oom" ? "is out of memory" : kind === "unreachable" ? "is unreachable" : "refuses commands"}; pausing, then retrying`,
    );
    seen = 0;
    void worker.pause(true).catch(() => undefined);
    timer = setTimeout(resume, delayMs);
    return true;
  };

  worker.on("error", (err) => {
    if (!fault(err) && !closing) log.error({ err }, `${what} error`);
  });
  const recovered = () => {
    if (backoff.failures === 0) return;
    log.info({ afterIntervals: backoff.failures }, `${what}: Redis accepts work again`);
    backoff.reset();
  };
  // A job that completes, or fails for a reason of its own, says Redis takes work again; one that
  // failed on Redis itself does not.
  worker.on("completed", recovered);
  worker.on("failed", (_job, err) => {
    if (!redisFault(err)) recovered();
  });
  worker.on("closing", () => {
    closing = true;
    if (timer) clearTimeout(timer);
    timer = undefined;
  });
  return {
    /** For the processor: true when `err` is Redis trouble, already counted and paced (log nothing more). */
    jobFailed: fault,
  };
}
