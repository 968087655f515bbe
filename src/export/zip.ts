import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import yazl from "yazl";

export type ZipEntry =
  | { name: string; bytes: Buffer; compress: boolean }
  | { name: string; file: string; size: number; sha256: string; compress: boolean };

/**
 * Same entries → same bytes: entries sorted by name, one pinned timestamp (DOS fields only, built
 * from local-time parts, so the machine's time zone cannot change them), fixed modes. Files are
 * streamed one at a time (flat memory whatever the bundle's size) and checked against the sha256
 * they were rendered with, so a file changed on disk since review fails the export.
 */
export async function writeZip(
  target: string,
  entries: ZipEntry[],
): Promise<{ sha256: string; bytes: number }> {
  const PINNED = new Date(2000, 0, 1, 0, 0, 0);
  const zip = new yazl.ZipFile();
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const mismatches: string[] = [];
  for (const e of sorted) {
    const opts = { mtime: PINNED, mode: 0o100644, compress: e.compress, forceDosTimestamp: true };
    if ("bytes" in e) {
      zip.addBuffer(e.bytes, e.name, opts);
    } else {
      // Lazy: the file is opened only when yazl reaches it, so one file is open at a time.
      zip.addReadStreamLazy(e.name, { ...opts, size: e.size }, (cb) =>
        cb(null, createReadStream(e.file).pipe(new HashCheck(e.sha256, () => mismatches.push(e.name)))),
      );
    }
  }
  zip.end();
  const hash = createHash("sha256");
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  await pipeline(zip.outputStream, counter, createWriteStream(target));
  if (mismatches.length) {
    throw new Error(`files changed on disk since they were rendered: ${mismatches.join(", ")}`);
  }
  return { sha256: hash.digest("hex"), bytes };
}

class HashCheck extends Transform {
  private readonly hash = createHash("sha256");
  constructor(
    private readonly expected: string,
    private readonly onMismatch: () => void,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
    this.hash.update(chunk);
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback) {
    if (this.hash.digest("hex") !== this.expected) this.onMismatch();
    cb();
  }
}
