import { execFile, execFileSync } from "node:child_process";
import { open, rm, statfs, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);
const FILLER = ".drill-filler";

/**
 * A folder that can be made full and freed again. Preferably a real filesystem of its own: a tmpfs of
 * `sizeBytes` mounted on it (root here; `mount` is refused in many containers), filled to the last
 * byte by one filler file, and freed by deleting it. When the mount is refused it falls back to a
 * read-only folder (chmod 555), which only bites a user other than root; `fill()` then throws, so the
 * drill fails loudly instead of proving nothing.
 */
export class FullDisk {
  private constructor(
    readonly dir: string,
    /** "tmpfs" (a real ENOSPC) or "read-only" (EACCES) */
    readonly kind: "tmpfs" | "read-only",
    readonly why: string,
  ) {}

  static async mount(dir: string, sizeBytes: number): Promise<FullDisk> {
    try {
      await exec("mount", ["-t", "tmpfs", "-o", `size=${sizeBytes},mode=0755`, "tmpfs", dir], {
        timeout: 10_000,
      });
      mounted.add(dir);
      return new FullDisk(dir, "tmpfs", `tmpfs of ${Math.round(sizeBytes / 1024)} KiB mounted on ${dir}`);
    } catch (err) {
      const reason = ((err as { stderr?: string }).stderr || (err as Error).message).trim();
      return new FullDisk(dir, "read-only", `mount refused (${reason}); read-only folder instead`);
    }
  }

  /** The errno a write gets once full. */
  get expectedError() {
    return this.kind === "tmpfs" ? "ENOSPC" : "EACCES";
  }

  /** Makes every further write fail; returns the bytes the filler took. */
  async fill(): Promise<number> {
    if (this.kind === "read-only") {
      await exec("chmod", ["555", this.dir]);
      const probe = path.join(this.dir, ".drill-probe");
      const bites = await writeFile(probe, "x").then(
        () => false,
        () => true,
      );
      if (!bites) {
        await rm(probe, { force: true });
        await exec("chmod", ["755", this.dir]);
        throw new Error(
          `cannot make a full or unwritable filesystem here: ${this.why}, but this user writes through it`,
        );
      }
      return 0;
    }
    const fh = await open(path.join(this.dir, FILLER), "w");
    const chunk = Buffer.alloc(64 * 1024, 0x5a);
    let written = 0;
    try {
      for (;;) {
        const { bytesWritten } = await fh.write(chunk, 0, chunk.length);
        written += bytesWritten;
        if (bytesWritten < chunk.length) break;
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
    } finally {
      await fh.close();
    }
    // The last partial block: a byte at a time until the filesystem refuses.
    for (;;) {
      const ok = await writeFile(path.join(this.dir, FILLER), "z", { flag: "a" }).then(
        () => true,
        () => false,
      );
      if (!ok) break;
      written++;
    }
    return written;
  }

  /** Free bytes as the filesystem reports them. */
  async freeBytes(): Promise<number> {
    const s = await statfs(this.dir);
    return s.bavail * s.bsize;
  }

  /** Deletes the filler (or makes the folder writable again). */
  async free(): Promise<void> {
    if (this.kind === "read-only") await exec("chmod", ["755", this.dir]);
    else await rm(path.join(this.dir, FILLER), { force: true });
  }

  /** Unmounts (lazily if still busy); safe to call twice. */
  async dispose(): Promise<void> {
    if (this.kind === "read-only") {
      await exec("chmod", ["755", this.dir]).catch(() => undefined);
      return;
    }
    if (!mounted.has(this.dir)) return;
    await exec("umount", [this.dir]).catch(() => exec("umount", ["-l", this.dir]));
    mounted.delete(this.dir);
  }
}

/** Mounted and not yet unmounted: an interrupted run still unmounts them on its way out. */
const mounted = new Set<string>();
process.once("exit", () => {
  for (const dir of mounted) {
    try {
      execFileSync("umount", ["-l", dir]);
    } catch {
      // nothing more to do on the way out
    }
  }
});
