/**
 * Preloaded into the built CLI by the export bench (`node --import ./rss-at-exit.mjs dist/cli/main.js export …`):
 * when the process exits it writes its own peak RSS (VmHWM, KiB; see own-rss.ts) to $BENCH_RSS_FILE.
 * Plain JavaScript, so the measured process loads nothing but the shipped code and these few lines.
 */
import { readFileSync, writeFileSync } from "node:fs";

const out = process.env.BENCH_RSS_FILE;
if (out) {
  process.on("exit", () => {
    let status = "";
    try {
      status = readFileSync("/proc/self/status", "utf8");
    } catch {}
    const hwm = /VmHWM:\s+(\d+)\s+kB/.exec(status)?.[1];
    const kib = hwm ? Number(hwm) : process.resourceUsage().maxRSS;
    writeFileSync(out, `${JSON.stringify({ peakRssKiB: kib, fromVmHwm: Boolean(hwm) })}\n`);
  });
}
