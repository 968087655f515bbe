/**
 * A drop pages through its outputs: records are read, reserved, released and marked exported
 * `batch` at a time (one Lua call per batch), so a drop's memory does not grow with its size.
 */
export const EXPORT_BATCH = 256;

/** Called between two batches; the crash tests kill the process here ("reserve-batch", "release-batch", "mark-batch"). */
export type BatchStep = "reserve-batch" | "release-batch" | "mark-batch";
export type Paging = { batch: number; afterBatch?: (step: BatchStep) => Promise<void> | void };

export function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  const n = Math.max(1, Math.floor(size));
  for (let i = 0; i < items.length; i += n) yield items.slice(i, i + n);
}

/** Each chunk in turn (with the one after it, if any), with the between-batches hook after every chunk but the last. */
export async function eachBatch<T>(
  items: readonly T[],
  paging: Paging,
  step: BatchStep,
  fn: (chunk: T[], next: T[] | undefined) => Promise<void>,
): Promise<void> {
  const n = Math.max(1, Math.floor(paging.batch));
  for (let i = 0; i < items.length; i += n) {
    if (i > 0) await paging.afterBatch?.(step);
    await fn(items.slice(i, i + n), i + n < items.length ? items.slice(i + n, i + 2 * n) : undefined);
  }
}

/**
 * Records of a batched step read one batch ahead: the next batch's read is started while this one
 * commits, so Redis round trips overlap. `take` hands out the read started for that chunk, or reads
 * now; a retry after a conflict must read afresh (`read`), as a read ahead may be stale. Any read
 * ahead is only a starting point: every commit is checked by revision.
 */
export function readAhead<R>(read: (ids: string[]) => Promise<R>) {
  let pending: { key: string; p: Promise<R> } | undefined;
  const keyOf = (ids: string[]) => `${ids.length}|${ids[0]}|${ids.at(-1)}`;
  return {
    read,
    take(ids: string[]): Promise<R> {
      const hit = pending?.key === keyOf(ids) ? pending.p : undefined;
      pending = undefined;
      return hit ?? read(ids);
    },
    start(ids: string[] | undefined) {
      if (!ids?.length) return;
      const p = read(ids);
      p.catch(() => undefined); // a failure surfaces when taken
      pending = { key: keyOf(ids), p };
    },
    /**
     * The read for one batch's commit attempts: the first takes the read started ahead and then
     * starts the next batch's; every retry after a conflict reads afresh.
     */
    forBatch(ids: string[], next: string[] | undefined): () => Promise<R> {
      let first = true;
      return async () => {
        if (!first) return read(ids);
        first = false;
        const records = await this.take(ids);
        this.start(next);
        return records;
      };
    },
  };
}

/**
 * Each page of `items` read by `read`, in order; the next page's read starts as soon as this one is
 * handed out, so it overlaps whatever the caller does with this one. At most one read runs ahead.
 */
export async function* pagesReadAhead<R>(
  items: readonly string[],
  size: number,
  read: (ids: string[]) => Promise<R>,
): AsyncGenerator<R> {
  const pages = chunks(items, size);
  const start = (c: IteratorResult<string[]>) => {
    if (c.done) return undefined;
    const p = read(c.value);
    p.catch(() => undefined); // a failure surfaces when awaited in turn
    return p;
  };
  let ahead = start(pages.next());
  while (ahead) {
    const page = await ahead;
    ahead = start(pages.next());
    yield page;
  }
}
