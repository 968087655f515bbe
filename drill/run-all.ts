// Fault drills, apart from `npm test`: each starts its own redis-server, breaks something on purpose
// and checks a promise. Exits 1 if any promise broke. `npm run drill`, or `tsx drill/run-all.ts 3 5`.
import { decisionRace } from "./decision-race.drill.js";
import { exportFullDisk } from "./export-full-disk.drill.js";
import { exportKill } from "./export-kill.drill.js";
import { exportKillNextSlot } from "./export-kill-next-slot.drill.js";
import { redisFrozen } from "./redis-frozen.drill.js";
import { redisKillApprovals } from "./redis-kill-approvals.drill.js";
import { redisOom } from "./redis-oom.drill.js";
import { redisRestart } from "./redis-restart.drill.js";
import { renderFullDisk } from "./render-full-disk.drill.js";
import { renderWorkerKill } from "./render-worker-kill.drill.js";
import { ensureBuilt } from "./support/built.js";
import type { Drill } from "./support/drill.js";
import { print, Report } from "./support/report.js";

const DRILLS: Drill[] = [
  renderWorkerKill,
  redisRestart,
  redisKillApprovals,
  exportKill,
  decisionRace,
  exportFullDisk,
  exportKillNextSlot,
  renderFullDisk,
  redisOom,
  redisFrozen,
];
const DRILL_TIMEOUT_MS = 120_000;

const only = process.argv.slice(2).map(Number).filter(Boolean);
const chosen = only.length ? DRILLS.filter((_, i) => only.includes(i + 1)) : DRILLS;
const started = Date.now();
const results: { name: string; passed: boolean; seconds: number }[] = [];

if (chosen.some((d) => d.usesBuild)) {
  print("\n=== npm run build (for the drills that spawn dist/cli/main.js)");
  print(`  ${await ensureBuilt().catch((err: Error) => `FAILED: ${err.message}`)}`);
}

for (const drill of chosen) {
  const report = new Report(drill.name, drill.promise);
  const t0 = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      drill.run(report),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`drill took over ${DRILL_TIMEOUT_MS / 1000} s`)),
          DRILL_TIMEOUT_MS,
        );
      }),
    ]);
  } catch (err) {
    report.fail(err);
  } finally {
    clearTimeout(timer);
  }
  results.push({ name: drill.name, passed: report.finish(), seconds: (Date.now() - t0) / 1000 });
}

print("\n=== summary");
for (const r of results) print(`  ${r.passed ? "PASS" : "FAIL"}  ${r.name}  (${r.seconds.toFixed(1)} s)`);
const failed = results.filter((r) => !r.passed).length;
print(
  `  ${results.length - failed}/${results.length} passed in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
process.exit(failed ? 1 : 0);
