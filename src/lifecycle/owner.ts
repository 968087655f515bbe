/**
 * Every resource a process or a command opens (connections, queues, workers, servers, timers) is
 * registered here by whoever opened it, and released last-in-first-out: a server stops taking requests
 * before the workers drain, and workers close before the connections they use.
 */
export class Owner {
  private readonly releasers: { name: string; release: () => Promise<unknown> | unknown }[] = [];
  private released = false;

  /** Registers `resource` to be released by `release`; returns the resource for chaining. */
  own<T>(name: string, resource: T, release: (r: T) => Promise<unknown> | unknown): T {
    if (this.released) throw new Error(`${name} opened after its owner was released`);
    this.releasers.push({ name, release: () => release(resource) });
    return resource;
  }

  /** Releases everything, newest first; each step gets `stepDeadlineMs`, and a failing step never stops the rest. */
  async releaseAll(
    onProblem: (name: string, problem: string) => void = () => {},
    stepDeadlineMs = 25_000,
  ): Promise<void> {
    this.released = true;
    while (this.releasers.length) {
      const { name, release } = this.releasers.pop()!;
      let timer: NodeJS.Timeout | undefined;
      try {
        const outcome = await Promise.race([
          Promise.resolve()
            .then(release)
            .then(() => "ok" as const),
          new Promise<"late">((r) => {
            timer = setTimeout(() => r("late"), stepDeadlineMs);
          }),
        ]);
        if (outcome === "late") onProblem(name, `did not close within ${stepDeadlineMs} ms`);
      } catch (err) {
        onProblem(name, (err as Error).message);
      } finally {
        clearTimeout(timer);
      }
    }
  }
}

/** Closes an ioredis connection: QUIT when it answers, else drop the socket. */
export async function closeRedis(conn: {
  quit(): Promise<unknown>;
  disconnect(): void;
  status: string;
}): Promise<void> {
  // QUIT only to a server that answers; one still connecting, frozen, or already ended on a half-closed
  // socket would hold the process.
  if (conn.status !== "ready") {
    drop(conn);
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      conn.quit(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("quit timed out")), 2000);
      }),
    ]);
  } catch {
    drop(conn);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * ioredis' disconnect() only half-closes the socket and waits for the server's FIN, which a frozen
 * server never sends: destroy the socket too, so nothing outlives its owner.
 */
function drop(conn: { disconnect(): void }) {
  const stream = (conn as { stream?: { destroy(): void } }).stream;
  conn.disconnect();
  stream?.destroy();
}
