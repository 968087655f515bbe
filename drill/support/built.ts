import { execFile } from "node:child_process";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { call } from "./http.js";
import { freeHttpPort, type NodeChild, REPO_ROOT, spawnNode, until } from "./processes.js";
import type { World } from "./world.js";

const exec = promisify(execFile);

/**
 * The shipped binary, as an operator runs it after `npm run build`. DRILL_DIST=/other/dist drills
 * another build as it is (never rebuilt), e.g. one with a fix taken out, to see a drill fail.
 */
const OTHER_DIST = process.env.DRILL_DIST;
export const BUILT_MAIN = path.join(OTHER_DIST ?? path.join(REPO_ROOT, "dist"), "cli", "main.js");

let built: Promise<string> | undefined;

/** Newest modification time of the .ts files under a folder (0 when there are none). */
async function newestTs(dir: string): Promise<number> {
  let newest = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, await newestTs(p));
    else if (e.name.endsWith(".ts")) newest = Math.max(newest, (await stat(p)).mtimeMs);
  }
  return newest;
}

/**
 * `npm run build` once per drill run, when dist/ is missing or older than src/: the drills that spawn
 * the shipped binary test what an operator runs. DRILL_SKIP_BUILD=1 uses dist/ as it is. Resolves with
 * what it did, for the report; rejects (the drill fails loudly) when the build fails.
 */
export function ensureBuilt(): Promise<string> {
  built ??= (async () => {
    if (OTHER_DIST) return `${OTHER_DIST} used as it is (DRILL_DIST)`;
    if (process.env.DRILL_SKIP_BUILD) return "dist/ used as it is (DRILL_SKIP_BUILD)";
    const distTime = await stat(BUILT_MAIN).then(
      (s) => s.mtimeMs,
      () => 0,
    );
    const srcTime = await newestTs(path.join(REPO_ROOT, "src"));
    if (distTime > srcTime) return "dist/ up to date";
    const t0 = Date.now();
    try {
      await exec("npx", ["tsc", "-p", "tsconfig.json"], { cwd: REPO_ROOT, timeout: 150_000 });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      const why = `${e.stdout ?? ""}${e.stderr ?? ""}`.trim().split("\n").slice(0, 8).join("\n");
      throw new Error(`npm run build failed, so the shipped binary cannot be drilled:\n${why || e.message}`);
    }
    return `built dist/ in ${((Date.now() - t0) / 1000).toFixed(1)} s`;
  })();
  return built;
}

export type CliRun = {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
  ms: number;
};

/** One `node dist/cli/main.js ARGS` to the end (killed after `timeoutMs`): exit, output, how long it took. */
export async function runBuilt(
  args: string[],
  opts: { env: NodeJS.ProcessEnv; logFile: string; timeoutMs?: number },
): Promise<CliRun> {
  const t0 = Date.now();
  const c = spawnBuilt(args, opts);
  const timer = setTimeout(() => c.child.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
  const exit = await c.exited;
  clearTimeout(timer);
  return { ...exit, out: c.stdout(), err: c.stderr(), ms: Date.now() - t0 };
}

/** `node dist/cli/main.js ARGS` as a child, its output logged to `logFile`. */
export function spawnBuilt(args: string[], opts: { env: NodeJS.ProcessEnv; logFile: string }): NodeChild {
  return spawnNode([BUILT_MAIN, ...args], opts);
}

/** A CLI result on one line for a step or a FAIL: exit code and the last line it printed. */
export function said(r: CliRun): string {
  const from = r.code === 0 ? r.out : r.err || r.out;
  const last = from.trim().split("\n").at(-1) ?? "";
  return `exit ${r.code ?? r.signal}, ${r.ms} ms, "${last.slice(0, 160)}"`;
}

/**
 * `testimony start --concurrency 2` on the drill's world, on a free port, once `/health` answers 200;
 * its log goes to `testimony-start.log` in the world's log folder.
 */
export async function startBuilt(w: World): Promise<{ app: NodeChild; base: string }> {
  const port = await freeHttpPort();
  const base = `http://127.0.0.1:${port}`;
  const app = spawnBuilt(["start", "--concurrency", "2"], {
    env: w.env({ PORT: String(port) }),
    logFile: path.join(w.logDir, "testimony-start.log"),
  });
  try {
    await until("/health 200", async () => (await call(base, "GET", "/health")).status === 200, 30_000, 200);
  } catch (err) {
    app.child.kill("SIGKILL"); // it never came up: the caller gets no handle to stop it with
    throw err;
  }
  return { app, base };
}
