import v8 from "node:v8";

/**
 * For a process whose one job is a drop (`testimony export --now`): V8 is asked to favour memory
 * over speed (`--optimize-for-size`, set at run time; V8 consults it each time it sizes the heap after
 * a collection). A drop's live heap stays small (a page of records, the ids), but it allocates a
 * parsed record per output per pass; by default V8 lets that garbage pile up in the old generation
 * (heap 110-135 MiB at the peak on a 4,000-card drop, 90 of it used), which alone kept peak RSS above
 * 200 MiB. With the flag the heap peaks at ~60-75 MiB and RSS ~100 MiB lower, at no measurable cost
 * in time (docs/performance.md, "Export peak RSS"). Process-wide and for good, so only for processes
 * that do nothing else: not the API server or a render worker, whose speed matters more.
 */
export function favourMemoryForDrop(): void {
  v8.setFlagsFromString("--optimize-for-size");
}
