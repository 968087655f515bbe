import { Command, CommanderError } from "commander";
import { ConfigError } from "../config.js";
import { AppError, ERRORS } from "../domain/errors.js";
import { CliContext, type Io } from "./context.js";
import { registerDataCommands } from "./data.commands.js";
import { registerExportCommands } from "./export.commands.js";
import { registerPipelineCommands } from "./pipeline.commands.js";
import { registerReviewCommands } from "./review.commands.js";
import { registerRoleCommands } from "./roles.commands.js";
import { registerSafetyCommands } from "./safety.commands.js";

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export function buildProgram(ctx: CliContext): Command {
  const program = new Command("testimony")
    .description("vetted defector testimony → reviewed campaign content, safely")
    .exitOverride()
    .configureOutput({ writeOut: ctx.io.out, writeErr: ctx.io.err })
    .showHelpAfterError("(add --help for usage)");
  registerDataCommands(program, ctx);
  registerPipelineCommands(program, ctx);
  registerReviewCommands(program, ctx);
  registerExportCommands(program, ctx);
  registerRoleCommands(program, ctx);
  registerSafetyCommands(program, ctx);
  return program;
}

/** Runs one command line and returns its exit code: 0 ok, 1 runtime failure, 2 bad usage or input. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const ctx = new CliContext(env, io);
  try {
    await buildProgram(ctx).parseAsync(argv, { from: "user" });
    return EXIT.ok;
  } catch (err) {
    return reportError(err, io);
  } finally {
    await ctx.close();
  }
}

function reportError(err: unknown, io: Io): number {
  if (err instanceof CommanderError) {
    if (err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.exitCode === 0)
      return EXIT.ok;
    return EXIT.usage;
  }
  if (err instanceof ConfigError) {
    io.err(`error: ${err.message}\n`);
    return EXIT.usage;
  }
  if (err instanceof AppError) {
    io.err(`error: ${err.message}\n`);
    return ERRORS[err.code].exit;
  }
  const e = err as Error & { code?: string };
  const hint =
    e.code === "ECONNREFUSED" || /ECONNREFUSED|Connection is closed/.test(String(e.message))
      ? " (is Redis running? `bash scripts/ensure-redis.sh` starts one)"
      : "";
  io.err(`error: ${e.message ?? String(err)}${hint}\n`);
  return EXIT.failure;
}
