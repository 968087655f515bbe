import v8 from "node:v8";

/**
 * For a process that renders cards (`testimony work --queue render`, `testimony start`): start V8's
 * major garbage collection when the old generation nears its limit (85 % of it, via a task; at 95 %
 * at once), instead of V8's default, which starts it whenever the room left below the limit is less
 * than the young generation's size. With a render worker's ~26 MB old generation, a 49 MB limit and
 * a young generation grown to 2 × 16 MB, that default held all the time: a full mark-compact every
 * 20-30 cards (73 in 2,000), ~17 % of the worker's CPU counting the marking threads. With the
 * triggers: 10-14, and 15.3 → 11.8 ms of CPU per card (`testimony work`, bench/run-all.ts --only
 * scale). The cost is memory the old generation may fill before it is collected (up to its limit).
 * `--max-semi-space-size` would do the same but cannot be set from inside a running process; these
 * two flags are read each time V8 decides whether to start marking, so setting them now works.
 */
export function collectGarbageLaterForRendering(): void {
  v8.setFlagsFromString("--incremental-marking-soft-trigger=85");
  v8.setFlagsFromString("--incremental-marking-hard-trigger=95");
}
