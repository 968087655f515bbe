export { freePort } from "../../test/support/poll.js";

import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";

export const REPO_ROOT = path.resolve(import.meta.dirname, "..", "..");
export const CLI_MAIN = path.join(REPO_ROOT, "src", "cli", "main.ts");
/** The shipped CLI, as users run it after `npm run build`. */
export const BUILT_CLI_MAIN = path.join(REPO_ROOT, "dist", "cli", "main.js");

/** Every child the bench starts, so an interrupted run leaves no worker behind. */
const live = new Set<ChildProcess>();
export const killAllChildren = () => {
  for (const c of live) c.kill("SIGKILL");
};

export type NodeChild = {
  child: ChildProcess;
  pid: number;
  logFile: string;
  stdout(): string;
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
};

/** `node --import tsx FILE ARGS` in the repo, stdout kept, both streams copied to `logFile`. */
export const spawnTsx = (file: string, args: string[], env: NodeJS.ProcessEnv, logFile: string): NodeChild =>
  spawnNode(["--import", "tsx", file, ...args], env, logFile);

/** `node ARGV` in the repo (no tsx: plain JavaScript, e.g. dist/), stdout kept, both streams copied to `logFile`. */
export function spawnNode(argv: string[], env: NodeJS.ProcessEnv, logFile: string): NodeChild {
  // BENCH_CPU_PROF=DIR: every child writes a V8 CPU profile there (NODE_OPTIONS refuses --cpu-prof).
  const prof = process.env.BENCH_CPU_PROF
    ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  const child = spawn(process.execPath, [...prof, ...argv], {
    cwd: REPO_ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(child);
  const log = createWriteStream(logFile, { flags: "a" });
  let out = "";
  child.stdout!.on("data", (c: Buffer) => {
    out += c.toString();
    log.write(c);
  });
  child.stderr!.on("data", (c: Buffer) => log.write(c));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      live.delete(child);
      log.end();
      resolve(code);
    }),
  );
  return {
    child,
    pid: child.pid ?? -1,
    logFile,
    stdout: () => out,
    exited,
    async stop(graceMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** `testimony ARGS` as its own process (`node --import tsx src/cli/main.ts ARGS`). */
export const spawnCli = (args: string[], env: NodeJS.ProcessEnv, logFile: string) =>
  spawnTsx(CLI_MAIN, args, env, logFile);

/** The last lines of a child's log, for an error message. */
export async function tail(file: string, lines = 20): Promise<string> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); NaN elsewhere. */
export async function cpuSeconds(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // After "pid (comm) ": state is field 3, so utime (14) and stime (15) are at 11 and 12 here.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** Peak resident set size of a live process so far, MiB (VmHWM, Linux); NaN elsewhere. */
export async function peakRssMiB(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    return Number(/VmHWM:\s+(\d+)\s+kB/.exec(status)?.[1] ?? Number.NaN) / 1024;
  } catch {
    return Number.NaN;
  }
}
