import { createHash, type Hash } from "node:crypto";
import fs from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { crc32 } from "../crc32.js";

export type ZipEntry =
  /** Bytes in memory; with `sha256`, checked like a file's (a text taken from its output's record). */
  | { name: string; bytes: Buffer; compress: boolean; sha256?: string }
  /** `size` is what the file measured when listed; the bytes actually read are what goes in. */
  | { name: string; file: string; size: number; sha256: string; compress: boolean };

export type ZipOptions = {
  /** Files up to this size are read whole (one read, headers carry the CRC); larger ones stream. */
  wholeFileLimit?: number;
};

const deflateRaw = promisify(zlib.deflateRaw);

/** Already-compressed media: deflating them costs time and saves nothing. */
const STORED_ALWAYS = /\.(png|jpe?g|webp)$/i;
const WHOLE_FILE_LIMIT = 16 * 1024 * 1024;
const STREAM_CHUNK = 1024 * 1024;
const READ_AHEAD = 16;
const READ_AHEAD_BYTES = 8 * 1024 * 1024;
/** Headers and small entries are gathered up to this size before one write. */
const WRITE_BATCH = 1024 * 1024;
const MAX_32 = 0xffffffff;
const MAX_16 = 0xffff;
/** DOS time and date of the one pinned timestamp, 2000-01-01 00:00:00: no time zone can change them. */
const DOS_TIME = 0;
const DOS_DATE = ((2000 - 1980) << 9) | (1 << 5) | 1;
const FLAG_UTF8 = 0x0800;
const FLAG_DESCRIPTOR = 0x0008;
const UNIX_MODE = (0o100644 << 16) >>> 0;

type Written = {
  nameBytes: Buffer;
  flags: number;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  offset: number;
};

/**
 * Same entries → same bytes: entries sorted by name, one pinned DOS timestamp, fixed modes, deflate
 * at zlib's default level for text and stored bytes for images. Each file is read once: its sha256
 * (checked against the one it was rendered with, so a file changed on disk since review fails the
 * export) and its CRC-32 are computed natively over the same buffer that is then written. A few
 * files are read ahead (at most 16, about 8 MiB), so memory stays flat whatever the bundle's size;
 * a file above `wholeFileLimit` streams, stored, in 1 MiB chunks with a data descriptor instead. ZIP64 records appear only when a count or an offset needs them.
 *
 * `entries` is an array (sorted here) or an async iterable already in name order (checked: an entry
 * out of order fails the write), so a caller with a very large bundle never holds every entry at
 * once; each entry's central-directory record is kept as bytes (~90 per entry), not as an object.
 */
export async function writeZip(
  target: string,
  entries: ZipEntry[] | AsyncIterable<ZipEntry>,
  options: ZipOptions = {},
): Promise<{ sha256: string; bytes: number }> {
  const limit = options.wholeFileLimit ?? WHOLE_FILE_LIMIT;
  const source = Array.isArray(entries)
    ? [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    : entries;
  const mismatches: string[] = [];
  // Whole files are read into recycled buffers: a drop reads hundreds of MB of cards, and a fresh
  // buffer per card is external memory the GC has to chase.
  const buffers = new BufferPool();
  const out = new Output(await open(target, "w"));
  try {
    const central = new CentralDirectory();
    // Read-ahead: the next files' reads (threadpool round trips) overlap this one's hashing and
    // writing, within READ_AHEAD files and READ_AHEAD_BYTES, so memory stays bounded.
    const it = Array.isArray(source) ? toAsync(source) : source[Symbol.asyncIterator]();
    const window: { e: ZipEntry; read?: Promise<Buffer> }[] = [];
    let aheadBytes = 0;
    let done = false;
    let last: string | undefined;
    const fill = async () => {
      while (!done && window.length < READ_AHEAD && aheadBytes < READ_AHEAD_BYTES) {
        const r = await it.next();
        if (r.done) {
          done = true;
          break;
        }
        const e = r.value;
        if (last !== undefined && !(last < e.name)) {
          throw new Error(`zip entries out of order or repeated: ${e.name} after ${last}`);
        }
        last = e.name;
        let read: Promise<Buffer> | undefined;
        if ("file" in e && e.size <= limit) {
          read = readWhole(e.file, e.size, buffers.take(e.size));
          read.catch(() => undefined); // a failure surfaces when awaited in turn, never as unhandled
          aheadBytes += e.size;
        }
        window.push({ e, read });
      }
    };
    for (;;) {
      await fill();
      const next = window.shift();
      if (!next) break;
      const { e, read } = next;
      if (read && "file" in e) aheadBytes -= e.size;
      const store = !e.compress || STORED_ALWAYS.test(e.name);
      if ("bytes" in e) {
        if (e.sha256 !== undefined && createHash("sha256").update(e.bytes).digest("hex") !== e.sha256)
          mismatches.push(e.name);
        central.add(await out.entry(e.name, e.bytes, store));
        continue;
      }
      if (read) {
        const bytes = await read;
        if (createHash("sha256").update(bytes).digest("hex") !== e.sha256) mismatches.push(e.name);
        central.add(await out.entry(e.name, bytes, store));
        // entry() has copied, written or deflated the bytes by now: the buffer can take the next file.
        buffers.give(bytes);
      } else {
        const r = await out.streamedEntry(e.name, e.file);
        if (r.sha256 !== e.sha256) mismatches.push(e.name);
        central.add(r.written);
      }
    }
    await out.centralDirectory(central);
    await out.close();
  } catch (err) {
    await out.close().catch(() => undefined);
    throw err;
  }
  if (mismatches.length) {
    throw new Error(`files changed on disk since they were rendered: ${mismatches.join(", ")}`);
  }
  return { sha256: out.digest(), bytes: out.position };
}

async function* toAsync(items: ZipEntry[]): AsyncGenerator<ZipEntry> {
  yield* items;
}

/** Central-directory records, built as each entry is written, in 1 MiB blocks of bytes. */
class CentralDirectory {
  readonly blocks: Buffer[] = [];
  count = 0;
  size = 0;
  private used = WRITE_BATCH;

  add(w: Written) {
    const length = 46 + w.nameBytes.length + (w.offset > MAX_32 ? 12 : 0);
    if (this.used + length > WRITE_BATCH) {
      const last = this.blocks.pop();
      if (last) this.blocks.push(last.subarray(0, this.used));
      this.blocks.push(Buffer.allocUnsafe(Math.max(WRITE_BATCH, length)));
      this.used = 0;
    }
    centralHeader(w, this.blocks.at(-1)!, this.used);
    this.used += length;
    this.size += length;
    this.count++;
  }

  /** The filled part of every block. */
  *filled(): Generator<Buffer> {
    for (let i = 0; i < this.blocks.length; i++) {
      yield i === this.blocks.length - 1 ? this.blocks[i]!.subarray(0, this.used) : this.blocks[i]!;
    }
  }
}

/**
 * The file's first `size` bytes (its listed size), without a stat: a file that shrank comes back
 * short and one that changed fails the sha256 check; one that grew goes in as it was listed.
 * Plain fs callbacks, not a FileHandle: a drop reads thousands of small cards, and the promise API's
 * FileHandle (an object per open, a promise per call) cost more than the reads. The descriptor is
 * closed once read (or on error); the bytes are handed out without waiting for the close.
 */
function readWhole(file: string, size: number, buf: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    fs.open(file, "r", (openErr, fd) => {
      if (openErr) return reject(openErr);
      let done = 0;
      const finish = (err: Error | null) => {
        fs.close(fd, () => undefined);
        if (err) reject(err);
        else resolve(done === size ? buf : buf.subarray(0, done));
      };
      const more = () => {
        if (done >= size) return finish(null);
        fs.read(fd, buf, done, size - done, done, (err, n) => {
          if (err) return finish(err);
          if (n === 0) return finish(null);
          done += n;
          more();
        });
      };
      more();
    });
  });
}

/** Buffers for whole files, reused: at most a read-ahead window's worth is kept. */
class BufferPool {
  private free: Buffer[] = [];
  private freeBytes = 0;

  /** `size` bytes (a view of a pooled buffer at least that big). */
  take(size: number): Buffer {
    const i = this.free.findIndex((b) => b.length >= size);
    if (i < 0) return Buffer.allocUnsafeSlow(Math.max(size, 64 * 1024)).subarray(0, size);
    const [b] = this.free.splice(i, 1);
    this.freeBytes -= b!.length;
    return b!.subarray(0, size);
  }

  /** Back to the pool: the whole buffer `view` was taken from. */
  give(view: Buffer) {
    const whole = Buffer.from(view.buffer, view.byteOffset, view.buffer.byteLength - view.byteOffset);
    if (view.byteOffset !== 0 || this.freeBytes + whole.length > READ_AHEAD_BYTES * 2) return;
    this.free.push(whole);
    this.freeBytes += whole.length;
  }
}

/**
 * The zip file being written, sequentially. Headers and small bodies are staged in one 1 MiB buffer
 * (no allocation per header) and written and hashed when it fills; a large body is written as is.
 */
class Output {
  position = 0;
  private readonly hash: Hash = createHash("sha256");
  private readonly stage = Buffer.allocUnsafe(WRITE_BATCH);
  private staged = 0;
  private closed = false;

  constructor(private readonly fh: FileHandle) {}

  async entry(name: string, data: Buffer, store: boolean): Promise<Written> {
    const crc = crc32(data);
    const body = store ? data : await compressed(data);
    const w: Written = {
      nameBytes: Buffer.from(name, "utf8"),
      flags: FLAG_UTF8,
      method: store ? 0 : 8,
      crc,
      compressedSize: body.length,
      size: data.length,
      offset: this.position,
    };
    if (w.size > MAX_32 || w.compressedSize > MAX_32) throw new Error(`${name}: entries over 4 GiB`);
    await this.header(30 + w.nameBytes.length, (b, at) => localHeader(w, b, at));
    await this.write(body);
    return w;
  }

  /**
   * A file too big to hold in memory: streamed once, stored (a multi-megabyte file here is an image),
   * its CRC and sizes in a data descriptor after the data.
   */
  async streamedEntry(name: string, file: string): Promise<{ written: Written; sha256: string }> {
    const w: Written = {
      nameBytes: Buffer.from(name, "utf8"),
      flags: FLAG_UTF8 | FLAG_DESCRIPTOR,
      method: 0,
      crc: 0,
      compressedSize: 0,
      size: 0,
      offset: this.position,
    };
    await this.header(30 + w.nameBytes.length, (b, at) => localHeader(w, b, at));
    const sha = createHash("sha256");
    const fh = await open(file, "r");
    try {
      for (;;) {
        const chunk = Buffer.allocUnsafe(STREAM_CHUNK);
        const { bytesRead } = await fh.read(chunk, 0, chunk.length, null);
        if (bytesRead === 0) break;
        const part = chunk.subarray(0, bytesRead);
        sha.update(part);
        w.crc = crc32(part, w.crc);
        w.size += bytesRead;
        await this.write(part);
      }
    } finally {
      await fh.close();
    }
    w.compressedSize = w.size;
    if (w.size > MAX_32) throw new Error(`${name}: entries over 4 GiB`);
    await this.header(16, (b, at) => {
      b.writeUInt32LE(0x08074b50, at);
      b.writeUInt32LE(w.crc, at + 4);
      b.writeUInt32LE(w.compressedSize, at + 8);
      b.writeUInt32LE(w.size, at + 12);
    });
    return { written: w, sha256: sha.digest("hex") };
  }

  async centralDirectory(central: CentralDirectory) {
    const start = this.position;
    for (const block of central.filled()) await this.write(block);
    const size = this.position - start;
    const count = central.count;
    if (count > MAX_16 || start > MAX_32 || size > MAX_32) {
      const zip64End = this.position;
      await this.header(56, (b, at) => {
        b.writeUInt32LE(0x06064b50, at);
        b.writeBigUInt64LE(44n, at + 4);
        b.writeUInt16LE(0x0300 | 45, at + 12);
        b.writeUInt16LE(45, at + 14);
        b.writeUInt32LE(0, at + 16);
        b.writeUInt32LE(0, at + 20);
        b.writeBigUInt64LE(BigInt(count), at + 24);
        b.writeBigUInt64LE(BigInt(count), at + 32);
        b.writeBigUInt64LE(BigInt(size), at + 40);
        b.writeBigUInt64LE(BigInt(start), at + 48);
      });
      await this.header(20, (b, at) => {
        b.writeUInt32LE(0x07064b50, at);
        b.writeUInt32LE(0, at + 4);
        b.writeBigUInt64LE(BigInt(zip64End), at + 8);
        b.writeUInt32LE(1, at + 16);
      });
    }
    await this.header(22, (b, at) => {
      b.writeUInt32LE(0x06054b50, at);
      b.writeUInt32LE(0, at + 4);
      b.writeUInt16LE(Math.min(count, MAX_16), at + 8);
      b.writeUInt16LE(Math.min(count, MAX_16), at + 10);
      b.writeUInt32LE(Math.min(size, MAX_32), at + 12);
      b.writeUInt32LE(Math.min(start, MAX_32), at + 16);
      b.writeUInt16LE(0, at + 20);
    });
  }

  digest() {
    return this.hash.digest("hex");
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.flush();
    } finally {
      await this.fh.close();
    }
  }

  /** `length` bytes filled in place by `fill` in the staging buffer. */
  private async header(length: number, fill: (b: Buffer, at: number) => void) {
    if (this.staged + length > this.stage.length) await this.flush();
    fill(this.stage, this.staged);
    this.staged += length;
    this.position += length;
  }

  private async write(data: Buffer) {
    if (data.length > this.stage.length - this.staged) {
      await this.flush();
      if (data.length >= this.stage.length / 4) {
        this.hash.update(data);
        this.position += data.length;
        await writeAll(this.fh, data);
        return;
      }
    }
    data.copy(this.stage, this.staged);
    this.staged += data.length;
    this.position += data.length;
  }

  private async flush() {
    if (!this.staged) return;
    const data = this.stage.subarray(0, this.staged);
    this.hash.update(data);
    this.staged = 0;
    await writeAll(this.fh, data);
  }
}

async function writeAll(fh: FileHandle, data: Buffer) {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, null);
    done += bytesWritten;
  }
}

/** Small texts deflate on the spot; anything bigger goes to the thread pool. */
async function compressed(data: Buffer): Promise<Buffer> {
  return data.length <= 64 * 1024 ? zlib.deflateRawSync(data) : deflateRaw(data);
}

function localHeader(w: Written, b: Buffer, at: number) {
  b.writeUInt32LE(0x04034b50, at);
  b.writeUInt16LE(20, at + 4);
  b.writeUInt16LE(w.flags, at + 6);
  b.writeUInt16LE(w.method, at + 8);
  b.writeUInt16LE(DOS_TIME, at + 10);
  b.writeUInt16LE(DOS_DATE, at + 12);
  // With a data descriptor the CRC and sizes are zero here and follow the data.
  b.writeUInt32LE(w.crc, at + 14);
  b.writeUInt32LE(w.compressedSize, at + 18);
  b.writeUInt32LE(w.size, at + 22);
  b.writeUInt16LE(w.nameBytes.length, at + 26);
  b.writeUInt16LE(0, at + 28);
  w.nameBytes.copy(b, at + 30);
}

function centralHeader(w: Written, b: Buffer, at: number) {
  const zip64 = w.offset > MAX_32;
  b.writeUInt32LE(0x02014b50, at);
  b.writeUInt16LE(0x0300 | (zip64 ? 45 : 20), at + 4);
  b.writeUInt16LE(zip64 ? 45 : 20, at + 6);
  b.writeUInt16LE(w.flags, at + 8);
  b.writeUInt16LE(w.method, at + 10);
  b.writeUInt16LE(DOS_TIME, at + 12);
  b.writeUInt16LE(DOS_DATE, at + 14);
  b.writeUInt32LE(w.crc, at + 16);
  b.writeUInt32LE(w.compressedSize, at + 20);
  b.writeUInt32LE(w.size, at + 24);
  b.writeUInt16LE(w.nameBytes.length, at + 28);
  b.writeUInt16LE(zip64 ? 12 : 0, at + 30);
  b.writeUInt16LE(0, at + 32); // comment length
  b.writeUInt16LE(0, at + 34); // disk number
  b.writeUInt16LE(0, at + 36); // internal attributes
  b.writeUInt32LE(UNIX_MODE, at + 38);
  b.writeUInt32LE(zip64 ? MAX_32 : w.offset, at + 42);
  w.nameBytes.copy(b, at + 46);
  if (zip64) {
    const x = at + 46 + w.nameBytes.length;
    b.writeUInt16LE(0x0001, x);
    b.writeUInt16LE(8, x + 2);
    b.writeBigUInt64LE(BigInt(w.offset), x + 4);
  }
}
