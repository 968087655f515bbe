import { readFile } from "node:fs/promises";
import type { Config } from "../config.js";
import { AppError } from "../domain/errors.js";
import type { Permission } from "../domain/user.js";
import { closeRedis, Owner } from "../lifecycle/owner.js";
import type { Logger } from "../logger.js";
import type { Runtime } from "../runtime.js";
import type { CommandRedis } from "../store/redis.js";
import type { Store } from "../store/store.js";

/**
 * Every Redis command of a one-shot command answers within this, also on a frozen server; with Node's
 * start and ioredis' close-out the whole command then ends well within 10 s.
 */
const ONE_SHOT_DEADLINE_MS = 3000;

export type Io = {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY?: boolean;
  /** Waits until `out` can take more (false once its reader has gone); absent: always ready. */
  drained?: () => Promise<boolean>;
};

/** Who a command acts as: from the program's global options, set before the action runs. */
export type Identity = { tokenFile?: string; as?: string };

/**
 * What a command needs, created on first use (so `--help` loads neither Redis nor BullMQ), and owned:
 * everything opened here is closed by `close()`, newest first, when the command ends.
 */
export class CliContext {
  readonly owner = new Owner();
  identity: Identity = {};
  private redis?: CommandRedis;
  private storeInstance?: Store;
  private runtimeInstance?: Runtime;
  private configInstance?: Config;
  private loggerInstance?: Logger;

  private modules?: {
    loadConfig: (env: NodeJS.ProcessEnv) => Config;
    createLogger: (level: string, opts: { pretty?: boolean }) => Logger;
  };

  constructor(
    readonly env: NodeJS.ProcessEnv,
    readonly io: Io,
  ) {}

  /** Loads configuration and logging before an action runs (not for `--help` or `--version`). */
  async prepare(identity: Identity) {
    this.identity = identity;
    this.modules ??= {
      loadConfig: (await import("../config.js")).loadConfig,
      createLogger: (await import("../logger.js")).createLogger,
    };
    void this.config; // a bad configuration stops the command before it does anything
  }

  get config(): Config {
    if (!this.modules) throw new Error("CliContext.prepare() must run before an action");
    this.configInstance ??= this.modules.loadConfig(this.env);
    return this.configInstance;
  }

  get log(): Logger {
    if (!this.modules) throw new Error("CliContext.prepare() must run before an action");
    this.loggerInstance ??= this.modules.createLogger(this.config.logLevel, {
      pretty: this.io.isTTY ?? false,
    });
    return this.loggerInstance;
  }

  /** The store on a fail-fast connection: Redis answers within the deadline or the command ends with why. */
  async store(): Promise<Store> {
    if (!this.storeInstance) {
      const { connectRedis, reachRedis, warnUnlessNoEviction } = await import("../store/redis.js");
      const { createStore } = await import("../store/store.js");
      const redis = this.owner.own(
        "redis (commands)",
        connectRedis(this.config.redisUrl, "command", { reconnect: false, deadlineMs: ONE_SHOT_DEADLINE_MS }),
        closeRedis,
      );
      redis.on("error", () => {}); // surfaced through the failing command instead
      await reachRedis(redis, this.config.redisUrl, ONE_SHOT_DEADLINE_MS);
      await warnUnlessNoEviction(redis, this.log);
      this.redis = redis;
      this.storeInstance = createStore(redis, this.config.keyPrefix);
    }
    return this.storeInstance;
  }

  /** Queues and templates on top of the store, for one-shot pipeline commands. */
  async runtime(): Promise<Runtime> {
    if (!this.runtimeInstance) {
      await this.store();
      const { openRuntime } = await import("../runtime.js");
      this.runtimeInstance = openRuntime(this.config, this.log, this.owner, {
        reconnect: false,
        redis: this.redis,
      });
    }
    return this.runtimeInstance;
  }

  /** For the long-running roles: connections that reconnect by themselves; nothing waits for Redis here. */
  async roleRuntime(): Promise<Runtime> {
    const { openRuntime } = await import("../runtime.js");
    this.runtimeInstance = openRuntime(this.config, this.log, this.owner, { reconnect: true });
    return this.runtimeInstance;
  }

  /**
   * The account this command acts as, proven by its API token (TESTIMONY_TOKEN or --token-file), checked
   * as the API checks it, with the permission the action needs. `--as`, if given, must name the same account.
   */
  async actor(permission: Permission): Promise<string> {
    const token = await this.token();
    if (!token) {
      throw new AppError(
        "unauthorized",
        "this command acts as an account: set TESTIMONY_TOKEN to your API token, or pass --token-file FILE (an admin issues tokens with `testimony users token NAME`)",
      );
    }
    const { identify, requirePermission } = await import("../app/users.service.js");
    const user = await identify(await this.store(), token);
    requirePermission(user, permission);
    this.checkAs(user.id);
    return user.id;
  }

  /**
   * Operator commands (`users …`) work for whoever holds the Redis URL, so the first admin can be made;
   * with a token they act as that account, which then needs the admin role.
   */
  async operator(): Promise<string> {
    if (!(await this.token())) {
      if (this.identity.as) this.checkAs("operator");
      return "operator";
    }
    return this.actor("users:admin");
  }

  private checkAs(accountId: string) {
    const as = this.identity.as;
    if (as !== undefined && as.normalize("NFC").toLowerCase() !== accountId) {
      throw new AppError(
        "forbidden",
        `--as ${as} does not match the account of the token (${accountId}); the token alone says who acts, so --as can be left out`,
        [{ field: "as", message: "does not match the token" }],
      );
    }
  }

  private async token(): Promise<string | undefined> {
    const file = this.identity.tokenFile;
    if (file) {
      try {
        return (await readFile(file, "utf8")).trim();
      } catch (err) {
        throw new AppError(
          "invalid_input",
          `--token-file ${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? err}`,
          [{ where: file, field: "token-file", message: "cannot read" }],
        );
      }
    }
    return this.config.token;
  }

  print(s: string) {
    this.io.out(s.endsWith("\n") ? s : `${s}\n`);
  }

  json(value: unknown) {
    this.print(JSON.stringify(value, null, 2));
  }

  /** Between streamed pages: true when the reader is ready for more, false once it has gone. */
  drained(): Promise<boolean> {
    return this.io.drained?.() ?? Promise.resolve(true);
  }

  async close() {
    await this.owner.releaseAll((name, problem) => this.io.err(`warning: closing ${name}: ${problem}\n`));
  }
}
