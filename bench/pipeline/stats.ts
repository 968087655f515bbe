export { sleep, until } from "../../test/support/poll.js";
/** Small numeric and timing helpers shared by the pipeline benchmarks. */

export const median = (xs: number[]): number => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export const now = () => performance.now();

/** Progress goes to stderr, so stdout stays the report. */
export function progress(message: string): void {
  const t = new Date().toISOString().slice(11, 19);
  process.stderr.write(`[bench ${t}] ${message}\n`);
}

/** `n` jobs through `lanes` lanes, in index order; resolves when all are done. */
export async function inLanes(n: number, lanes: number, job: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(lanes, n) }, async () => {
      while (next < n) await job(next++);
    }),
  );
}

export const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-GB") : "–");
export const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "–");
export const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "–");
export const mib = (bytes: number) => bytes / (1024 * 1024);
