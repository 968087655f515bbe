import { type ChildProcess, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, until } from "../support/poll.js";
import { bin, RoleProcess } from "./bin.js";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A server that accepts connections and never answers: a frozen (SIGSTOPped) Redis, as a client sees it. */
async function frozenRedis(): Promise<string> {
  const port = await freePort();
  const sockets = new Set<import("node:net").Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return `redis://127.0.0.1:${port}`;
}

const baseEnv = (redisUrl: string) => ({
  REDIS_URL: redisUrl,
  KEY_PREFIX: "e2e-redis-down",
  DATA_DIR: path.join(tmpdir(), "testimony-e2e-redis-down"),
  EXPORT_DIR: path.join(tmpdir(), "testimony-e2e-redis-down-exports"),
  TESTIMONY_TOKEN: `tm_${"a".repeat(12)}.${"b".repeat(32)}`,
  ALLOW_VOLATILE_REDIS: "1",
});

describe("Redis unreachable or frozen: one-shot commands end within 10 s and say why", () => {
  it("refused: names Redis, its URL, the reason and the way out; exit 1", async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const r = await bin(["quotes", "list"], { env: baseEnv(url), deadlineMs: 10_000 });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`cannot reach Redis at ${url}: connect ECONNREFUSED`);
    expect(r.err).toContain("scripts/ensure-redis.sh");
    expect(r.err).not.toContain("max retries per request");
  });

  it("a password in REDIS_URL is never printed", async () => {
    const port = await freePort();
    const r = await bin(["quotes", "list"], {
      env: baseEnv(`redis://:hunter2@127.0.0.1:${port}`),
      deadlineMs: 10_000,
    });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`cannot reach Redis at redis://:***@127.0.0.1:${port}`);
    expect(r.err).not.toContain("hunter2");
  });

  it("frozen: `quotes import` and `review approve` give up within 10 s instead of hanging", async () => {
    const url = await frozenRedis();
    const file = path.join(tmpdir(), `e2e-frozen-${process.pid}.csv`);
    await writeFile(file, "id,speaker_id,text\n");
    for (const args of [
      ["quotes", "import", file],
      ["review", "approve", "o-1234"],
    ]) {
      const r = await bin(args, { env: baseEnv(url), deadlineMs: 10_000 });
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.err).toContain(`cannot reach Redis at ${url}: no answer within 3 s`);
    }
  });
});

describe("long-running roles started while Redis is down", () => {
  it("`serve` answers 503 on /health, logs one line per retry, and serves by itself once Redis appears", async () => {
    const redisPort = await freePort();
    const httpPort = await freePort();
    const url = `redis://127.0.0.1:${redisPort}`;
    const role = new RoleProcess(["serve"], {
      ...baseEnv(url),
      HOST: "127.0.0.1",
      PORT: String(httpPort),
      LOG_LEVEL: "info",
    });
    cleanups.push(() => role.stop().catch(() => {}));
    const health = async () => (await fetch(`http://127.0.0.1:${httpPort}/health`)).status;
    expect(await until("/health to answer", () => health().catch(() => undefined), 15_000)).toBe(503);
    await role.logged(`cannot reach Redis at ${url}`);
    // Retries back off: after the first attempts, not a flood of lines.
    await role.logged("retrying in 2 s");
    const lines = role.log.split("\n").filter((l) => l.includes("cannot reach Redis")).length;
    expect(lines).toBeLessThanOrEqual(3);

    const redis: ChildProcess = spawn(
      "redis-server",
      ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdio: "ignore" },
    );
    cleanups.push(() => redis.kill("SIGKILL"));
    await role.logged("testimony serve is up", 45_000);
    expect(await until("/health 200", async () => ((await health()) === 200 ? 200 : undefined), 10_000)).toBe(
      200,
    );
    expect(await role.stop()).toBe(0);
  });

  it("a Redis that keeps nothing on disk is refused by the roles unless ALLOW_VOLATILE_REDIS=1", async () => {
    const port = await freePort();
    const redis: ChildProcess = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdio: "ignore" },
    );
    cleanups.push(() => redis.kill("SIGKILL"));
    const url = `redis://127.0.0.1:${port}`;
    const env = { ...baseEnv(url), ALLOW_VOLATILE_REDIS: "0" };
    await until(
      "redis-server to answer",
      async () => (await bin(["quotes", "list"], { env })).code === 0,
      10_000,
    );
    const refused = new RoleProcess(["work"], env);
    cleanups.push(() => refused.stop().catch(() => {}));
    const code = await refused.exit(30_000);
    expect(refused.log).toContain('Redis persistence: appendonly no, appendfsync everysec, save ""');
    expect(refused.log).toContain("ALLOW_VOLATILE_REDIS=1");
    expect(code).toBe(1);

    const allowed = new RoleProcess(["work"], { ...env, ALLOW_VOLATILE_REDIS: "1" });
    cleanups.push(() => allowed.stop().catch(() => {}));
    await allowed.logged("worker started");
    expect(allowed.log).toContain("running anyway (ALLOW_VOLATILE_REDIS=1)");
  });

  it("`work` waiting for Redis stops cleanly on SIGTERM", async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const role = new RoleProcess(["work"], { ...baseEnv(url), LOG_LEVEL: "info" });
    cleanups.push(() => role.stop().catch(() => {}));
    await role.logged(`cannot reach Redis at ${url}`);
    expect(await role.stop(10_000)).toBe(0);
  });
});
