import { readFile } from "node:fs/promises";

/**
 * This process's own peak RSS, KiB. On Linux `process.resourceUsage().maxRSS` of a spawned child
 * starts at its parent's RSS at the moment of the fork (the kernel carries the old mm's high-water
 * mark across exec), so a child of a big parent seems big; VmHWM belongs to the new process alone.
 * Falls back to maxRSS where /proc is missing.
 */
export async function ownPeakRssKiB(): Promise<{ vmHwmKiB: number; maxRssKiB: number }> {
  const maxRssKiB = process.resourceUsage().maxRSS;
  const status = await readFile("/proc/self/status", "utf8").catch(() => "");
  const hwm = /VmHWM:\s+(\d+)\s+kB/.exec(status)?.[1];
  return { vmHwmKiB: hwm ? Number(hwm) : maxRssKiB, maxRssKiB };
}
