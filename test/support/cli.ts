import { expect } from "vitest";
import { addUser } from "../../src/app/users.service.js";
import { runCli } from "../../src/cli/program.js";
import type { Role } from "../../src/domain/user.js";
import type { Store } from "../../src/store/store.js";
import { REDIS_URL } from "./redis.js";

export type CliResult = { code: number; out: string; err: string };

const sockets = () => process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap").length;

/**
 * Runs the real CLI in-process against the test prefix and captures what it prints. A leak guard: the
 * command must have closed every connection it opened by the time it returns. (The shipped binary is
 * tested by spawning it, in test/e2e.)
 */
export async function cli(
  prefix: string,
  argv: string[],
  extraEnv: Record<string, string> = {},
): Promise<CliResult> {
  let out = "";
  let err = "";
  const before = sockets();
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
  // A socket QUIT has closed may take a moment to leave the list: wait for it, with a deadline.
  const deadline = Date.now() + 2000;
  while (sockets() > before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  expect(sockets(), `sockets left open by: testimony ${argv.join(" ")}`).toBeLessThanOrEqual(before);
  return { code, out, err };
}

const tokens = new Map<string, string>();

/** The env that makes the CLI act as `name` (an account made on first use, with `roles`). */
export async function actingAs(store: Store, name: string, roles: Role[] = ["staff"]) {
  const key = `${store.keys.bullPrefix}:${name}`;
  if (!tokens.has(key)) tokens.set(key, (await addUser(store, name, roles, "operator")).token);
  return { TESTIMONY_TOKEN: tokens.get(key)! };
}
