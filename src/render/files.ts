import { createHash, randomBytes } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";

export const sha256 = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");

// A render writes four files into one folder: create each folder once per process, not per file.
const madeDirs = new Set<string>();

/** Never half-written: write beside the target under a temporary name, then rename over it. */
export async function writeFileAtomic(file: string, bytes: Uint8Array | string): Promise<void> {
  const dir = path.dirname(file);
  if (!madeDirs.has(dir)) {
    await mkdir(dir, { recursive: true });
    madeDirs.add(dir);
  }
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(tmp, bytes).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
      await mkdir(dir, { recursive: true }); // the folder was removed since we made it
      await writeFile(tmp, bytes);
    });
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
