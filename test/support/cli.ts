import { runCli } from "../../src/cli/program.js";
import { REDIS_URL } from "./redis.js";

export type CliResult = { code: number; out: string; err: string };

/** Runs the real CLI in-process against the test prefix and captures what it prints. */
export async function cli(
  prefix: string,
  argv: string[],
  extraEnv: Record<string, string> = {},
): Promise<CliResult> {
  let out = "";
  let err = "";
  const code = await runCli(
    argv,
    { REDIS_URL, KEY_PREFIX: prefix, LOG_LEVEL: "silent", ...extraEnv },
    {
      out: (s) => {
        out += s;
      },
      err: (s) => {
        err += s;
      },
    },
  );
  return { code, out, err };
}
