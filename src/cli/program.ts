import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { AppError, ERRORS } from "../domain/errors.js";
import { CliContext, type Io } from "./context.js";
import { registerDataCommands } from "./data.commands.js";
import { registerExportCommands } from "./export.commands.js";
import { registerPipelineCommands } from "./pipeline.commands.js";
import { registerRetryCommands } from "./retry.commands.js";
import { registerReviewCommands } from "./review.commands.js";
import { registerRoleCommands } from "./roles.commands.js";
import { registerSafetyCommands } from "./safety.commands.js";

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

// One level below the package root both as src/cli and dist/cli.
const VERSION = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

/**
 * The command tree. Registering commands imports nothing heavy: each action loads what it needs
 * (Redis, BullMQ, sharp, fastify) when it runs, so `--help` and `--version` answer at once.
 */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command("testimony")
    .description("vetted defector testimony → reviewed campaign content, safely")
    .version(VERSION, "-V, --version", "print the version")
    .option(
      "--token-file <file>",
      "file holding the API token of the account you act as (default: the TESTIMONY_TOKEN variable)",
    )
    .option("--as <user>", "optional check: the account the token must belong to")
    .exitOverride()
    .configureOutput({ writeOut: ctx.io.out, writeErr: ctx.io.err })
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError("(add --help for usage)")
    .hook("preAction", async () => {
      const o = program.opts<{ tokenFile?: string; as?: string }>();
      await ctx.prepare({ tokenFile: o.tokenFile, as: o.as });
    });
  registerDataCommands(program, ctx);
  registerPipelineCommands(program, ctx);
  registerRetryCommands(program, ctx);
  registerReviewCommands(program, ctx);
  registerExportCommands(program, ctx);
  registerRoleCommands(program, ctx);
  registerSafetyCommands(program, ctx);
  return program;
}

/** Every leaf command of the tree, as its words (`["quotes", "vet"]`): the e2e sweep checks each has a case. */
export function leafCommands(program: Command, prefix: string[] = []): string[][] {
  return program.commands.flatMap((c) =>
    c.commands.length ? leafCommands(c, [...prefix, c.name()]) : [[...prefix, c.name()]],
  );
}

/** Runs one command line and returns its exit code: 0 ok, 1 runtime failure, 2 bad usage or input. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const ctx = new CliContext(env, io);
  const program = buildProgram(ctx);
  try {
    if (argv.length === 0) {
      io.out(program.helpInformation());
      return EXIT.ok;
    }
    await program.parseAsync(argv, { from: "user" });
    return EXIT.ok;
  } catch (err) {
    return reportError(err, ctx);
  } finally {
    await ctx.close();
  }
}

async function reportError(err: unknown, ctx: CliContext): Promise<number> {
  const { io } = ctx;
  if (err instanceof CommanderError) {
    if (err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.exitCode === 0)
      return EXIT.ok;
    // A group named without a subcommand (`testimony quotes`): its help, as a usage error.
    return EXIT.usage;
  }
  if ((err as Error)?.name === "ConfigError") {
    io.err(`error: ${(err as Error).message}\n`);
    return EXIT.usage;
  }
  if (err instanceof AppError) {
    io.err(`error: ${err.message}\n`);
    return ERRORS[err.code].exit;
  }
  const { printableRedisUrl, redisFault, redisUnreachable } = await import("../store/redis.js");
  const trouble = redisFault(err);
  if (trouble) {
    const url = safeConfigUrl(ctx);
    const e =
      trouble === "oom"
        ? `Redis at ${printableRedisUrl(url)} refuses writes: it is out of memory (maxmemory); nothing was changed. Free memory or raise maxmemory, then retry.`
        : trouble === "refused"
          ? `Redis at ${printableRedisUrl(url)} refuses writes for now (${(err as Error).message}); nothing was changed; retry shortly.`
          : redisUnreachable(url, (err as Error).message).message;
    io.err(`error: ${e}\n`);
    return ERRORS.unavailable.exit;
  }
  io.err(`error: ${(err as Error)?.message ?? String(err)}\n`);
  return ERRORS.internal.exit;
}

function safeConfigUrl(ctx: CliContext): string {
  try {
    return ctx.config.redisUrl;
  } catch {
    return "REDIS_URL";
  }
}
