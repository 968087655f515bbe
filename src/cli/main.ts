#!/usr/bin/env node
import { runCli } from "./program.js";

// A reader that stops early (`testimony users list | head -1`) closes the pipe: nothing more to say.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
  });
}

/**
 * Resolves once stdout has room again (at once when it has): a command that streams many pages
 * waits here between pages, so a slow reader holds back the reading, not memory. False once the
 * reader has gone.
 */
function drained(): Promise<boolean> {
  const out = process.stdout;
  if (out.destroyed) return Promise.resolve(false);
  if (!out.writableNeedDrain) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => () => {
      out.off("drain", onDrain).off("close", onGone).off("error", onGone);
      resolve(ok);
    };
    const onDrain = done(true);
    const onGone = done(false);
    out.once("drain", onDrain).once("close", onGone).once("error", onGone);
  });
}

const code = await runCli(process.argv.slice(2), process.env, {
  out: (s) => process.stdout.write(s),
  drained,
  err: (s) => process.stderr.write(s),
  isTTY: Boolean(process.stderr.isTTY),
});
process.exitCode = code;
