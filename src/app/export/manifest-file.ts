import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { copyFile, type FileHandle, open, truncate } from "node:fs/promises";
import { createInterface } from "node:readline";
import type { Manifest, ManifestOutput } from "../../export/manifest.js";

/** Where an entry starts and how much follows it in `JSON.stringify({ outputs: [entry] }, null, 2)`. */
const ENTRY_START = '{\n  "outputs": [\n    '.length;
const ENTRY_END = "\n  ]\n}".length;
/** Pieces gathered up to this size before one write. */
const WRITE_BATCH = 256 * 1024;

/**
 * `manifest.json` written one output at a time, byte for byte what `JSON.stringify(manifest, null, 2)`
 * gives for the whole manifest (entries must come in manifest order), with its sha256 and size: a
 * 40,000-output manifest (~50 MB) is never a string or an object in memory.
 */
export class ManifestWriter {
  private readonly hash = createHash("sha256");
  private pending: string[] = [];
  private pendingBytes = 0;
  private count = 0;
  bytes = 0;
  private readonly tail: string;

  private constructor(
    private readonly fh: FileHandle,
    head: string,
    tail: string,
  ) {
    this.tail = tail;
    this.push(head);
  }

  static async create(file: string, skeleton: Omit<Manifest, "outputs">): Promise<ManifestWriter> {
    const text = JSON.stringify({ ...skeleton, outputs: [] } satisfies Manifest, null, 2);
    const marker = '\n  "outputs": [';
    const at = text.indexOf(`${marker}]`);
    if (at < 0) throw new Error("manifest skeleton without an outputs list");
    const head = text.slice(0, at + marker.length);
    const tail = `${text.slice(at + marker.length + 1)}\n`;
    return new ManifestWriter(await open(file, "w"), head, tail);
  }

  async add(entry: ManifestOutput) {
    // The entry as it sits in the list, indented by two levels: stringified inside a wrapper at that
    // depth and cut out (one pass, not a second one re-indenting every line).
    const wrapped = JSON.stringify({ outputs: [entry] }, null, 2);
    const json = wrapped.slice(ENTRY_START, wrapped.length - ENTRY_END);
    this.push(`${this.count === 0 ? "\n    " : ",\n    "}${json}`);
    this.count++;
    if (this.pendingBytes >= WRITE_BATCH) await this.flush();
  }

  /** Closes the list and the file; returns the file's sha256 and size. */
  async finish(): Promise<{ sha256: string; bytes: number }> {
    try {
      this.push(this.count === 0 ? `]${this.tail}` : `\n  ]${this.tail}`);
      await this.flush();
    } finally {
      await this.fh.close();
    }
    return { sha256: this.hash.digest("hex"), bytes: this.bytes };
  }

  async abort() {
    await this.fh.close().catch(() => undefined);
  }

  private push(s: string) {
    this.pending.push(s);
    this.pendingBytes += s.length;
  }

  private async flush() {
    if (!this.pending.length) return;
    const data = Buffer.from(this.pending.join(""), "utf8");
    this.pending = [];
    this.pendingBytes = 0;
    this.hash.update(data);
    this.bytes += data.length;
    let done = 0;
    while (done < data.length)
      done += (await this.fh.write(data, done, data.length - done, null)).bytesWritten;
  }
}

/**
 * The sidecar `manifest.json` beside the zip: the manifest with `generatedAt` and the zip's checksum
 * added, as `JSON.stringify({...manifest, generatedAt, zip}, null, 2)` would write it: a copy of the
 * manifest file with its closing brace replaced by the two keys.
 */
export async function writeSidecar(
  manifestFile: string,
  target: string,
  added: { generatedAt: string; zip: { file: string; sha256: string; bytes: number } },
  manifestBytes: number,
) {
  await copyFile(manifestFile, target);
  await truncate(target, manifestBytes - "\n}\n".length);
  const fh = await open(target, "a");
  try {
    await fh.write(`,${JSON.stringify(added, null, 2).slice(1)}\n`);
  } finally {
    await fh.close();
  }
}

/**
 * What a written sidecar says, read line by line (the file is ours, written as above or by
 * `JSON.stringify(…, null, 2)`): the ids of its outputs and the zip's checksum, without holding the
 * manifest in memory.
 */
export async function readWrittenManifest(
  file: string,
): Promise<{ ids: string[]; zip: { sha256: string; bytes: number } }> {
  const ids: string[] = [];
  let inOutputs = false;
  let tail: string[] | undefined;
  const lines = createInterface({
    input: createReadStream(file, "utf8"),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines) {
    if (tail) {
      tail.push(line);
    } else if (line === '  "outputs": [') {
      inOutputs = true;
    } else if (inOutputs && (line === "  ]," || line === "  ]")) {
      inOutputs = false;
    } else if (inOutputs && line.startsWith('      "id": ')) {
      ids.push(JSON.parse(line.slice('      "id": '.length).replace(/,$/, "")) as string);
    } else if (line.startsWith('  "generatedAt": ')) {
      tail = [line];
    }
  }
  if (!tail) throw new Error(`${file}: not a bundle manifest (no generatedAt and zip)`);
  const after = JSON.parse(`{${tail.join("\n")}`) as { zip?: { sha256: string; bytes: number } };
  if (!after.zip) throw new Error(`${file}: not a bundle manifest (no zip)`);
  return { ids, zip: { sha256: after.zip.sha256, bytes: after.zip.bytes } };
}
