import type { Redis } from "ioredis";
import { type Config, loadConfig } from "../config.js";
import { createLogger, type Logger } from "../logger.js";
import { openRuntime, type Runtime } from "../runtime.js";
import { connectRedis, warnUnlessNoEviction } from "../store/redis.js";
import { createStore, type Store } from "../store/store.js";

export type Io = { out: (s: string) => void; err: (s: string) => void; isTTY?: boolean };

/** What a command needs, created on first use so `--help` works without Redis. */
export class CliContext {
  private redis?: Redis;
  private storeInstance?: Store;
  private configInstance?: Config;
  private loggerInstance?: Logger;
  readonly cleanups: (() => Promise<void>)[] = [];

  constructor(
    readonly env: NodeJS.ProcessEnv,
    readonly io: Io,
  ) {}

  get config(): Config {
    this.configInstance ??= loadConfig(this.env);
    return this.configInstance;
  }

  get log(): Logger {
    this.loggerInstance ??= createLogger(this.config.logLevel, { pretty: this.io.isTTY ?? false });
    return this.loggerInstance;
  }

  async store(): Promise<Store> {
    if (!this.storeInstance) {
      this.redis = connectRedis(this.config.redisUrl, "command");
      this.redis.on("error", () => {}); // surfaced through the failing command instead
      await this.redis.ping();
      await warnUnlessNoEviction(this.redis, this.log);
      this.storeInstance = createStore(this.redis, this.config.keyPrefix);
    }
    return this.storeInstance;
  }

  private runtimeInstance?: Runtime;

  /** Queues, templates and workers on top of the store, for the pipeline commands. */
  async runtime(): Promise<Runtime> {
    if (!this.runtimeInstance) {
      this.runtimeInstance = await openRuntime(this.config, this.log);
      const rt = this.runtimeInstance;
      this.cleanups.push(() => rt.close());
    }
    return this.runtimeInstance;
  }

  print(s: string) {
    this.io.out(s.endsWith("\n") ? s : `${s}\n`);
  }

  json(value: unknown) {
    this.print(JSON.stringify(value, null, 2));
  }

  async close() {
    for (const c of this.cleanups.reverse()) await c().catch(() => {});
    if (this.redis) await this.redis.quit().catch(() => this.redis?.disconnect());
  }
}
