import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { addUser } from "../../src/app/users.service.js";
import type { Role } from "../../src/domain/user.js";
import { until } from "../support/poll.js";
import { REDIS_URL, testStore } from "../support/redis.js";

export const BIN = path.resolve("dist/cli/main.js");

export type BinResult = { code: number | null; out: string; err: string; ms: number };

/**
 * Runs the built binary as a user would, and fails unless it exits by itself within `deadlineMs`: a
 * command that leaves a connection, a timer or a handle open never exits, and this catches it.
 */
export async function bin(
  args: string[],
  opts: { env?: Record<string, string>; deadlineMs?: number } = {},
): Promise<BinResult> {
  const started = Date.now();
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", LOG_LEVEL: "warn", ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  child.stderr.on("data", (d) => {
    err += d;
  });
  const deadlineMs = opts.deadlineMs ?? 20_000;
  const timer = setTimeout(() => child.kill("SIGKILL"), deadlineMs);
  const [code, signal] = (await once(child, "exit")) as [number | null, string | null];
  clearTimeout(timer);
  if (signal === "SIGKILL") {
    throw new Error(
      `testimony ${args.join(" ")} did not exit by itself within ${deadlineMs} ms\nstdout: ${out}\nstderr: ${err}`,
    );
  }
  return { code, out, err, ms: Date.now() - started };
}

/** A long-running role (`start`, `serve`, `work`, `schedule`) as a real process, with its log kept. */
export class RoleProcess {
  readonly child: ChildProcess;
  log = "";
  private exited?: Promise<number | null>;

  constructor(args: string[], env: Record<string, string>) {
    this.child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", LOG_LEVEL: "info", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout?.on("data", (d) => {
      this.log += d;
    });
    this.child.stderr?.on("data", (d) => {
      this.log += d;
    });
    this.exited = once(this.child, "exit").then(([code]) => code as number | null);
  }

  /** Waits until the log holds `text` (or matches it). */
  async logged(text: string | RegExp, timeoutMs = 60_000): Promise<void> {
    await until(
      `log line ${text}`,
      () => (typeof text === "string" ? this.log.includes(text) : text.test(this.log)),
      timeoutMs,
    );
  }

  /** The exit code of a process that ends by itself (a refusal), or an error after the deadline. */
  async exit(deadlineMs = 20_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      this.exited,
      new Promise<"late">((r) => {
        timer = setTimeout(() => r("late"), deadlineMs);
      }),
    ]);
    clearTimeout(timer);
    if (code === "late") throw new Error(`role did not exit by itself within ${deadlineMs} ms\n${this.log}`);
    return code ?? null;
  }

  /** SIGTERM, then the exit code; fails if it does not stop by itself within the deadline. */
  async stop(deadlineMs = 25_000): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), deadlineMs);
    const code = (await this.exited) ?? null;
    clearTimeout(timer);
    if (this.child.signalCode === "SIGKILL")
      throw new Error(`role did not stop within ${deadlineMs} ms\n${this.log}`);
    return code;
  }
}

/** A fresh key prefix, temp data and export dirs, and the env a `testimony` process needs for them. */
export async function e2eWorld(name: string) {
  const t = testStore(`e2e-${name}`);
  const dir = await mkdtemp(path.join(tmpdir(), `testimony-e2e-${name}-`));
  const env: Record<string, string> = {
    REDIS_URL,
    KEY_PREFIX: t.prefix,
    DATA_DIR: path.join(dir, "data"),
    EXPORT_DIR: path.join(dir, "exports"),
    // The test Redis keeps nothing on disk; the roles refuse such a Redis unless told it is on purpose.
    ALLOW_VOLATILE_REDIS: "1",
  };
  return {
    ...t,
    dir,
    env,
    /** An account with these roles, and the env that makes the CLI act as it. */
    async account(name: string, roles: Role[]) {
      const { token } = await addUser(t.store, name, roles, "operator");
      return { ...env, TESTIMONY_TOKEN: token };
    },
    async dispose() {
      await rm(dir, { recursive: true, force: true });
      await t.cleanup();
    },
  };
}
