import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { sleep, tail, track } from "./processes.js";

const FIRST_PORT = 6400;
const LAST_PORT = 6499;

export type RedisOptions = { name: string; appendfsync?: "always" | "everysec" };

/**
 * A redis-server of the drill's own: loopback only, a free port from 6400 up, a temp dir, AOF on,
 * noeviction, no RDB snapshots, in the foreground as our child so it can be SIGTERMed, SIGKILLed and
 * started again on the same port and dir. Never the machine's Redis on 6379.
 */
export class RedisProcess {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  starts = 0;
  /** How the last run ended: a SIGKILL, or a clean exit after SIGTERM. */
  lastExit?: { code: number | null; signal: NodeJS.Signals | null };

  private constructor(
    readonly port: number,
    readonly dir: string,
    readonly appendfsync: "always" | "everysec",
  ) {}

  static async create(opts: RedisOptions): Promise<RedisProcess> {
    const dir = await mkdtemp(path.join(tmpdir(), `tm-drill-redis-${opts.name}-`));
    const port = await freePort();
    return new RedisProcess(port, dir, opts.appendfsync ?? "everysec");
  }

  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }

  get logFile() {
    return path.join(this.dir, "redis.log");
  }

  get pid() {
    return this.child?.pid;
  }

  get running() {
    return this.child !== undefined;
  }

  async start(): Promise<void> {
    if (this.child) throw new Error(`redis on ${this.port} is already running`);
    // biome-ignore format: one flag and its value per line
    const args = [
      "--port", String(this.port),
      "--bind", "127.0.0.1",
      "--dir", this.dir,
      "--appendonly", "yes",
      "--appendfsync", this.appendfsync,
      "--maxmemory-policy", "noeviction",
      "--save", "",
      "--daemonize", "no",
      "--logfile", this.logFile,
    ];
    const child = track(spawn("redis-server", args, { stdio: "ignore" }));
    this.child = child;
    this.exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        this.lastExit = { code, signal };
        if (this.child === child) this.child = undefined;
        resolve();
      }),
    );
    this.starts++;
    await this.waitReady();
  }

  /** PONG (not LOADING) over a raw socket: answers only once the AOF is loaded. */
  async waitReady(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.child)
        throw new Error(
          `redis on ${this.port} exited while starting:\n${(await tail(this.logFile)).join("\n")}`,
        );
      if ((await ping(this.port)) === "+PONG") return;
      if (Date.now() > deadline) throw new Error(`redis on ${this.port} not ready after ${timeoutMs} ms`);
      await sleep(20);
    }
  }

  /** Graceful: SIGTERM makes Redis fsync the AOF and exit (as SHUTDOWN does). */
  async stop(timeoutMs = 10_000): Promise<void> {
    await this.signal("SIGTERM", timeoutMs);
  }

  /** No goodbye: whatever was not fsynced is lost. */
  async kill(): Promise<void> {
    await this.signal("SIGKILL", 5000);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Frozen, not dead (SIGSTOP): connections are accepted by the kernel and never answered. */
  freeze(): void {
    if (!this.child) throw new Error(`redis on ${this.port} is not running`);
    this.child.kill("SIGSTOP");
  }

  /** SIGCONT after freeze(): Redis answers everything it was sent meanwhile. */
  thaw(): void {
    this.child?.kill("SIGCONT");
  }

  /** Kills the server if it still runs and removes its dir. */
  async dispose(): Promise<void> {
    if (this.child) await this.kill().catch(() => {});
    await rm(this.dir, { recursive: true, force: true });
  }

  private async signal(sig: NodeJS.Signals, timeoutMs: number) {
    const child = this.child;
    if (!child) return;
    child.kill(sig);
    const done = await Promise.race([this.exited!.then(() => true), sleep(timeoutMs).then(() => false)]);
    if (!done) {
      child.kill("SIGKILL");
      await this.exited;
      throw new Error(`redis on ${this.port} ignored ${sig} for ${timeoutMs} ms`);
    }
  }
}

/** One PING over a fresh socket: the first reply line, or undefined when nothing answers. */
export function ping(port: number, timeoutMs = 500): Promise<string | undefined> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: "127.0.0.1", port });
    let buf = "";
    const done = (v: string | undefined) => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(timeoutMs, () => done(undefined));
    sock.on("error", () => done(undefined));
    sock.on("connect", () => sock.write("PING\r\n"));
    sock.on("data", (c) => {
      buf += c.toString();
      const end = buf.indexOf("\r\n");
      if (end >= 0) done(buf.slice(0, end));
    });
  });
}

/** A loopback port from 6400 up that nothing listens on and we can bind. */
async function freePort(): Promise<number> {
  const start = FIRST_PORT + Math.floor(Math.random() * 50);
  for (let i = 0; i <= LAST_PORT - FIRST_PORT; i++) {
    const port = FIRST_PORT + ((start - FIRST_PORT + i) % (LAST_PORT - FIRST_PORT + 1));
    if ((await ping(port, 200)) !== undefined) continue;
    const ok = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.once("error", () => resolve(false));
      srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error(`no free port in ${FIRST_PORT}-${LAST_PORT}`);
}
