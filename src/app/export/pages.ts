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

/** Each chunk in turn, with the between-batches hook after every chunk but the last. */
export async function eachBatch<T>(
  items: readonly T[],
  paging: Paging,
  step: BatchStep,
  fn: (chunk: T[]) => Promise<void>,
): Promise<void> {
  let first = true;
  for (const chunk of chunks(items, paging.batch)) {
    if (!first) await paging.afterBatch?.(step);
    first = false;
    await fn(chunk);
  }
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
