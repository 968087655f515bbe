import type { Logger } from "../logger.js";

export type Shutdown = {
  /** Aborts on the first SIGTERM or SIGINT, so waiting for Redis stops too. */
  signal: AbortSignal;
  /** Resolves on the first SIGTERM or SIGINT, logging which. */
  done(log: Logger): Promise<void>;
  dispose(): void;
};

/**
 * Listens for SIGTERM and SIGINT from the start of a long-running role; the caller's owner then closes
 * everything gracefully. Installed before Redis is reached, so a role waiting for Redis still stops.
 */
export function onShutdown(): Shutdown {
  const controller = new AbortController();
  let received: string | undefined;
  const stop = (signal: string) => {
    received ??= signal;
    controller.abort();
  };
  const onTerm = () => stop("SIGTERM");
  const onInt = () => stop("SIGINT");
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", onInt);
  return {
    signal: controller.signal,
    done(log) {
      return new Promise((resolve) => {
        const finish = () => {
          log.info({ signal: received }, "shutting down");
          resolve();
        };
        if (controller.signal.aborted) finish();
        else controller.signal.addEventListener("abort", finish, { once: true });
      });
    },
    dispose() {
      process.off("SIGTERM", onTerm);
      process.off("SIGINT", onInt);
    },
  };
}
