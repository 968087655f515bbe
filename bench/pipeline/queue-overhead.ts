import { type ConnectionOptions, Queue, Worker } from "bullmq";
import { JOB_DEFAULTS } from "../../src/queues/queues.js";
import { createKeys } from "../../src/store/keys.js";
import { connectRedis } from "../../src/store/redis.js";
import { deleteAllKeys } from "../../src/store/store.js";
import { median, now, progress } from "./stats.js";
import { REDIS_URL } from "./world.js";

export type QueueRep = { jobs: number; addOnlyJobsPerSec: number; throughJobsPerSec: number };
export type QueueResult = {
  jobs: number;
  concurrency: number;
  reps: QueueRep[];
  median: { addOnlyJobsPerSec: number; throughJobsPerSec: number; msPerJob: number };
};

const jobsOf = (n: number, rep: string) =>
  Array.from({ length: n }, (_, i) => ({
    name: "render",
    data: { outputId: `o-${rep}-${i}` },
    opts: { ...JOB_DEFAULTS.render, jobId: `o-${rep}-${i}` },
  }));

/**
 * BullMQ's own cost on this Redis: `jobs` no-op jobs shaped like render jobs (ids-only payload, the
 * render queue's job options), added with one addBulk; add-only into a queue without a worker, and
 * from first add to last completion with one Worker (no-op processor) at `concurrency`.
 */
export async function runQueueBench(
  run: { runId: string },
  opts: { jobs: number; reps: number; concurrency: number; warmJobs: number },
): Promise<QueueResult> {
  const prefix = `${run.runId}-queue`;
  const keys = createKeys(prefix);
  const conn = connectRedis(REDIS_URL, "worker");
  const connection = conn as ConnectionOptions;
  const base = { connection, prefix: keys.bullPrefix };

  async function addOnly(name: string, n: number): Promise<number> {
    const q = new Queue(name, base);
    await q.waitUntilReady();
    const jobs = jobsOf(n, name);
    const t0 = now();
    await q.addBulk(jobs);
    const s = (now() - t0) / 1000;
    await q.close();
    return n / s;
  }

  async function through(name: string, n: number): Promise<number> {
    const q = new Queue(name, base);
    const worker = new Worker(name, async () => undefined, { ...base, concurrency: opts.concurrency });
    await Promise.all([q.waitUntilReady(), worker.waitUntilReady()]);
    let done = 0;
    const finished = new Promise<void>((resolve, reject) => {
      worker.on("completed", () => {
        if (++done === n) resolve();
      });
      worker.on("failed", (_job, err) => reject(err));
    });
    const jobs = jobsOf(n, name);
    const t0 = now();
    await q.addBulk(jobs);
    await finished;
    const s = (now() - t0) / 1000;
    await worker.close();
    await q.close();
    return n / s;
  }

  try {
    progress(`queue: warm-up (${opts.warmJobs} jobs)`);
    await addOnly("warm-add", opts.warmJobs);
    await through("warm-through", opts.warmJobs);
    const reps: QueueRep[] = [];
    for (let r = 0; r < opts.reps; r++) {
      const addOnlyJobsPerSec = await addOnly(`add-r${r + 1}`, opts.jobs);
      const throughJobsPerSec = await through(`through-r${r + 1}`, opts.jobs);
      reps.push({ jobs: opts.jobs, addOnlyJobsPerSec, throughJobsPerSec });
      progress(
        `queue rep ${r + 1}/${opts.reps}: add-only ${addOnlyJobsPerSec.toFixed(0)} jobs/s, add → completed ${throughJobsPerSec.toFixed(0)} jobs/s`,
      );
    }
    const throughMedian = median(reps.map((r) => r.throughJobsPerSec));
    return {
      jobs: opts.jobs,
      concurrency: opts.concurrency,
      reps,
      median: {
        addOnlyJobsPerSec: median(reps.map((r) => r.addOnlyJobsPerSec)),
        throughJobsPerSec: throughMedian,
        msPerJob: 1000 / throughMedian,
      },
    };
  } finally {
    await deleteAllKeys(conn, prefix).catch(() => 0);
    await conn.quit().catch(() => conn.disconnect());
  }
}
