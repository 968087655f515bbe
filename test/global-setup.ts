import { execFileSync } from "node:child_process";

/**
 * The end-to-end tests spawn the shipped binary (`node dist/cli/main.js`), so the build runs once
 * before any test file: what is tested is what `npm run build` gives a user.
 */
export default function buildOnce() {
  if (process.env.TESTIMONY_SKIP_BUILD === "1") return;
  execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"], {
    stdio: "inherit",
    timeout: 180_000,
  });
}
