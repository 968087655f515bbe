export { freePort as freeHttpPort, sleep, until } from "../../test/support/poll.js";

import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";

export const REPO_ROOT = path.resolve(import.meta.dirname, "..", "..");
export const CLI_MAIN = path.join(REPO_ROOT, "src", "cli", "main.ts");

/** Every child a drill starts, so an interrupted run never leaves a redis-server or worker behind. */
const live = new Set<ChildProcess>();
let hooked = false;

export function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once("exit", () => live.delete(child));
  if (!hooked) {
    hooked = true;
    process.once("exit", () => {
      for (const c of live) c.kill("SIGKILL");
    });
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      process.once(sig, () => {
        for (const c of live) c.kill("SIGKILL");
        process.exit(130);
      });
    }
  }
  return child;
}

export type NodeChild = {
  child: ChildProcess;
  logFile: string;
  /** Resolves with the exit code or signal; settles once. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout(): string;
  stderr(): string;
};

/** `node --import tsx FILE ARGS`, stdout kept in memory, both streams copied to logFile. */
export function spawnTsx(
  file: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; logFile: string },
): NodeChild {
  return spawnNode(["--import", "tsx", file, ...args], opts);
}

/** `node ARGV` from the repository root, both streams kept in memory and copied to logFile. */
export function spawnNode(argv: string[], opts: { env?: NodeJS.ProcessEnv; logFile: string }): NodeChild {
  const child = track(
    spawn(process.execPath, argv, {
      cwd: REPO_ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  const log = createWriteStream(opts.logFile, { flags: "a" });
  let out = "";
  let err = "";
  child.stdout!.on("data", (c: Buffer) => {
    out += c.toString();
    log.write(c);
  });
  child.stderr!.on("data", (c: Buffer) => {
    err += c.toString();
    log.write(c);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("close", (code, signal) => {
      log.end();
      resolve({ code, signal });
    }),
  );
  return { child, logFile: opts.logFile, exited, stdout: () => out, stderr: () => err };
}

/** The last lines of a log file, for a FAIL's evidence. */
export async function tail(file: string, lines = 15): Promise<string[]> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text.trimEnd().split("\n").slice(-lines);
}
