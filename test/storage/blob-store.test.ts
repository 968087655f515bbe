import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobNotFound, type BlobStore } from "../../src/storage/blob-store.js";
import { diskBlobStore } from "../../src/storage/disk.js";
import { s3BlobStore } from "../../src/storage/s3.js";
import { s3Reachable, testBucket } from "../support/s3.js";

const s3Up = await s3Reachable();

async function drain(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

let dir: string;
let bucket: Awaited<ReturnType<typeof testBucket>>;
const backends: Record<string, () => BlobStore> = {
  disk: () => diskBlobStore(dir),
  ...(s3Up ? { s3: () => s3BlobStore(bucket.settings) } : {}),
};

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "blobs-"));
  if (s3Up) bucket = await testBucket("blobs");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await bucket?.cleanup();
});

describe.each(Object.keys(backends))("%s blob store", (kind) => {
  it("puts, gets, streams, sizes and deletes by key; a missing key is BlobNotFound", async () => {
    const blobs = backends[kind]!();
    const key = `outputs/c1/${randomBytes(4).toString("hex")}.png`;
    const bytes = randomBytes(3000);
    expect(await blobs.exists(key)).toBe(false);
    expect(await blobs.size(key)).toBeUndefined();
    await blobs.put(key, bytes);
    expect(await blobs.exists(key)).toBe(true);
    expect(await blobs.size(key)).toBe(3000);
    expect((await blobs.get(key)).equals(bytes)).toBe(true);
    expect((await drain(await blobs.stream(key))).equals(bytes)).toBe(true);
    await blobs.put(key, "replaced, same key");
    expect((await blobs.get(key)).toString()).toBe("replaced, same key");
    await blobs.delete(key);
    await blobs.delete(key); // removing a missing key is fine
    await expect(blobs.get(key)).rejects.toBeInstanceOf(BlobNotFound);
    await expect(blobs.stream(key)).rejects.toBeInstanceOf(BlobNotFound);
    expect(() => blobs.where("../escape")).toThrow(/invalid blob key/);
  });

  it("takes a stream bigger than an upload part (multipart on S3) and gives back the same bytes", async () => {
    const blobs = backends[kind]!();
    const key = `bundles/c1/${randomBytes(4).toString("hex")}/bundle.zip`;
    const size = 19 * 1024 * 1024; // 3 parts of 8 MiB
    const chunk = randomBytes(1024 * 1024);
    const whole = createHash("sha256");
    function* parts() {
      for (let i = 0; i < size / chunk.length; i++) {
        const c = Buffer.from(chunk);
        c.writeUInt32BE(i, 0);
        whole.update(c);
        yield c;
      }
    }
    await blobs.put(key, Readable.from(parts()), { size });
    expect(await blobs.size(key)).toBe(size);
    const back = createHash("sha256");
    for await (const c of await blobs.stream(key)) back.update(c as Buffer);
    expect(back.digest("hex")).toBe(whole.digest("hex"));
    await blobs.delete(key);
  });
});

describe.runIf(s3Up)("s3 blob store with a wrong secret", () => {
  it("is refused with a clear message that names the variables and never the secret", async () => {
    const wrong = `wrong-${randomBytes(8).toString("hex")}`;
    const blobs = s3BlobStore({ ...bucket.settings, secretAccessKey: wrong });
    const err = await blobs.put("outputs/x.txt", "hello").then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(
      /refused \((SignatureDoesNotMatch|AccessDenied|InvalidAccessKeyId)\).*S3_SECRET_ACCESS_KEY/,
    );
    expect(err?.message).not.toContain(wrong);
    expect(await s3BlobStore(bucket.settings).exists("outputs/x.txt")).toBe(false);
  });
});
