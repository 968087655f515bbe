import type { Report } from "./report.js";

/** One fault drill: sets up its own Redis and dirs, records into the report, cleans up after itself. */
export type Drill = {
  name: string;
  /** What it proves, in one sentence. */
  promise: string;
  run(report: Report): Promise<void>;
};
