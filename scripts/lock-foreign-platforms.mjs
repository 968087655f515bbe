#!/usr/bin/env node
// The npm registry our machines reach serves only the linux builds of a few packages' per-platform
// binaries, so `npm install` leaves the other platforms out of package-lock.json and `npm ci` then
// refuses the lock as out of sync. This adds lock entries for those foreign-platform optional
// packages (name, version, os, cpu, optional): npm ci skips them on Linux without fetching anything,
// and a machine on that platform resolves them from its own registry.
import { readFileSync, writeFileSync } from "node:fs";

const PLATFORMS = {
  "android-arm64": { os: ["android"], cpu: ["arm64"] },
  "android-x64": { os: ["android"], cpu: ["x64"] },
  "darwin-arm64": { os: ["darwin"], cpu: ["arm64"] },
  "darwin-x64": { os: ["darwin"], cpu: ["x64"] },
  "linux-arm": { os: ["linux"], cpu: ["arm"] },
  "linux-arm64-musl": { os: ["linux"], cpu: ["arm64"], libc: ["musl"] },
  "linux-x64-musl": { os: ["linux"], cpu: ["x64"], libc: ["musl"] },
  "win32-arm64": { os: ["win32"], cpu: ["arm64"] },
  "win32-x64": { os: ["win32"], cpu: ["x64"] },
};

const lockPath = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, "utf8"));
let added = 0;
for (const [path, pkg] of Object.entries(lock.packages)) {
  for (const [dep, version] of Object.entries(pkg.optionalDependencies ?? {})) {
    const key = `node_modules/${dep}`;
    if (lock.packages[key]) continue;
    const platform = Object.keys(PLATFORMS).find((p) => dep.endsWith(`-${p}`));
    if (!platform) {
      console.error(`${path}: optional ${dep} is missing from the lock and is not a known platform build`);
      process.exitCode = 1;
      continue;
    }
    lock.packages[key] = {
      version,
      ...(pkg.dev ? { dev: true } : {}),
      optional: true,
      ...PLATFORMS[platform],
    };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))),
);
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`lock: ${added} foreign-platform entries added`);
