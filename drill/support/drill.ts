import type { Report } from "./report.js";

/** One fault drill: sets up its own Redis and dirs, records into the report, cleans up after itself. */
export type Drill = {
  name: string;
  /** What it proves, in one sentence. */
  promise: string;
  /** Spawns the shipped binary (dist/): the runner builds it first, outside the drill's time limit. */
  usesBuild?: boolean;
  run(report: Report): Promise<void>;
};
