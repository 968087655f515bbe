import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readFile, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { writeFileAtomic } from "../render/files.js";
import { BlobNotFound, type BlobStore, checkKey } from "./blob-store.js";

const missing = (err: unknown) => (err as NodeJS.ErrnoException).code === "ENOENT";

/** Today's layout: a key is a file under `root`; writes go to a temporary name, then rename. */
export function diskBlobStore(root: string): BlobStore {
  const base = path.resolve(root);
  const file = (key: string) => path.join(base, ...checkKey(key).split("/"));
  return {
    kind: "disk",
    where: (key) => file(key),
    localPath: (key) => file(key),
    async put(key, body) {
      const target = file(key);
      if (!(body instanceof Readable)) return writeFileAtomic(target, body);
      await mkdir(path.dirname(target), { recursive: true });
      const tmp = path.join(
        path.dirname(target),
        `.${path.basename(target)}.${randomBytes(6).toString("hex")}.tmp`,
      );
      try {
        await pipeline(body, createWriteStream(tmp));
        await rename(tmp, target);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    },
    async get(key) {
      try {
        return await readFile(file(key));
      } catch (err) {
        if (missing(err)) throw new BlobNotFound(key);
        throw err;
      }
    },
    async stream(key) {
      const f = file(key);
      // Open first, so a missing key throws here rather than on the stream's first read.
      try {
        await stat(f);
      } catch (err) {
        if (missing(err)) throw new BlobNotFound(key);
        throw err;
      }
      return createReadStream(f);
    },
    async size(key) {
      try {
        return (await stat(file(key))).size;
      } catch (err) {
        if (missing(err)) return undefined;
        throw err;
      }
    },
    async exists(key) {
      return (await this.size(key)) !== undefined;
    },
    async delete(key) {
      await rm(file(key), { force: true });
    },
  };
}
