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
  const n = Math.max(1, Math.floor(paging.batch));
  for (let i = 0; i < items.length; i += n) {
    if (i > 0) await paging.afterBatch?.(step);
    await fn(items.slice(i, i + n));
  }
}
