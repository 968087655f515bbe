import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import yauzl from "yauzl";
import { writeZip, type ZipEntry } from "../../src/export/zip.js";
import { unzip } from "../support/zip.js";

const run = promisify(execFile);
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "tm-zip-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Entry name → compression method (0 stored, 8 deflated), as a zip reader sees it. */
async function methods(file: string): Promise<Map<string, number>> {
  const zip = await new Promise<yauzl.ZipFile>((res, rej) =>
    yauzl.open(file, { lazyEntries: true }, (e, z) => (e ? rej(e) : res(z))),
  );
  const out = new Map<string, number>();
  await new Promise<void>((res, rej) => {
    zip.on("end", res).on("error", rej);
    zip.on("entry", (e: yauzl.Entry) => {
      out.set(e.fileName, e.compressionMethod);
      zip.readEntry();
    });
    zip.readEntry();
  });
  zip.close();
  return out;
}

async function files() {
  const png = Buffer.concat([Buffer.from("\x89PNG\r\n\x1a\n", "binary"), Buffer.alloc(300_000, 7)]);
  const text = Buffer.from("a former fighter said: ".repeat(200));
  await writeFile(path.join(dir, "card.png"), png);
  await writeFile(path.join(dir, "post.txt"), text);
  const entries: ZipEntry[] = [
    {
      name: "text/o1.post.txt",
      file: path.join(dir, "post.txt"),
      size: text.length,
      sha256: sha(text),
      compress: true,
    },
    // Asked to compress, but an image is always stored.
    {
      name: "cards/o1.png",
      file: path.join(dir, "card.png"),
      size: png.length,
      sha256: sha(png),
      compress: true,
    },
    { name: "manifest.json", bytes: Buffer.from('{"outputs":[]}\n'), compress: true },
  ];
  return { png, text, entries };
}

describe("writeZip", () => {
  it("writes every entry once, images stored and text deflated, readable by unzip -t", async () => {
    const { png, text, entries } = await files();
    const target = path.join(dir, "a.zip");
    const r = await writeZip(target, entries);
    const bytes = await readFile(target);
    expect(r).toEqual({ sha256: sha(bytes), bytes: bytes.length });
    const got = await unzip(target);
    expect([...got.keys()]).toEqual(["cards/o1.png", "manifest.json", "text/o1.post.txt"]);
    expect(got.get("cards/o1.png")!.equals(png)).toBe(true);
    expect(got.get("text/o1.post.txt")!.equals(text)).toBe(true);
    expect(Object.fromEntries(await methods(target))).toEqual({
      "cards/o1.png": 0,
      "manifest.json": 8,
      "text/o1.post.txt": 8,
    });
    // An independent reader checks every CRC-32.
    const t = await run("unzip", ["-t", target]);
    expect(t.stdout).toContain("No errors detected");
  });

  it("gives the same bytes for the same entries in any order, and streams big files to the same content", async () => {
    const { png, entries } = await files();
    const a = path.join(dir, "b1.zip");
    const b = path.join(dir, "b2.zip");
    await writeZip(a, entries);
    await writeZip(b, [...entries].reverse());
    expect((await readFile(b)).equals(await readFile(a))).toBe(true);
    // Above the whole-file limit a file streams with a data descriptor: same entries, CRCs checked.
    const c = path.join(dir, "b3.zip");
    await writeZip(c, entries, { wholeFileLimit: 1000 });
    expect((await unzip(c)).get("cards/o1.png")!.equals(png)).toBe(true);
    expect((await run("unzip", ["-t", c])).stdout).toContain("No errors detected");
  });

  it("fails when a file changed on disk since it was rendered, read whole or streamed", async () => {
    const { entries } = await files();
    const changed = entries.map((e) => (e.name === "cards/o1.png" ? { ...e, sha256: "0".repeat(64) } : e));
    await expect(writeZip(path.join(dir, "c1.zip"), changed)).rejects.toThrow(
      "files changed on disk since they were rendered: cards/o1.png",
    );
    await expect(writeZip(path.join(dir, "c2.zip"), changed, { wholeFileLimit: 0 })).rejects.toThrow(
      "cards/o1.png",
    );
  });

  it("fails on a missing file without an unhandled rejection from the read-ahead", async () => {
    const { entries } = await files();
    const missing = [
      ...entries,
      { ...entries[0]!, name: "text/o0.post.txt", file: path.join(dir, "gone.txt") },
    ];
    await expect(writeZip(path.join(dir, "d.zip"), missing)).rejects.toThrow(/ENOENT/);
  });

  it("writes ZIP64 end records past 65,535 entries, and readers see every entry", async () => {
    const entries: ZipEntry[] = Array.from({ length: 70_000 }, (_, i) => ({
      name: `text/${String(i).padStart(6, "0")}.txt`,
      bytes: Buffer.from(String(i)),
      compress: false,
    }));
    const target = path.join(dir, "e.zip");
    await writeZip(target, entries);
    // Independent readers (Info-ZIP): the listing has every name, and every CRC checks.
    const listed = (await run("zipinfo", ["-1", target], { maxBuffer: 64 * 1024 * 1024 })).stdout.split("\n");
    expect(listed.filter(Boolean)).toHaveLength(70_000);
    expect(listed).toContain("text/069999.txt");
    expect((await run("unzip", ["-t", target], { maxBuffer: 64 * 1024 * 1024 })).stdout).toContain(
      "No errors detected",
    );
  });
});

describe("writeZip reading files into reused buffers", () => {
  it("gives every file its own bytes, whatever the order of sizes (small after large, empty, above 256 KiB)", async () => {
    const sizes = [70_000, 3, 0, 300_000, 65_536, 70_001, 1, 120_000, 64_000, 500_000, 10, 70_000];
    const entries: ZipEntry[] = [];
    const want = new Map<string, Buffer>();
    for (let round = 0; round < 5; round++) {
      for (const [i, size] of sizes.entries()) {
        const name = `cards/r${round}-${String(i).padStart(2, "0")}.png`;
        const bytes = Buffer.alloc(size, (round * 31 + i * 7 + 1) % 256);
        if (size > 2) bytes.writeUInt16LE(round * 100 + i, 0);
        const file = path.join(dir, `reuse-${round}-${i}.png`);
        await writeFile(file, bytes);
        entries.push({ name, file, size, sha256: sha(bytes), compress: false });
        want.set(name, bytes);
      }
    }
    const target = path.join(dir, "reuse.zip");
    await writeZip(target, entries);
    const got = await unzip(target);
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [name, bytes] of want) expect(sha(got.get(name)!), name).toBe(sha(bytes));
  });
});
