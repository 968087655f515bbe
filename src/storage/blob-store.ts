import type { Readable } from "node:stream";

/**
 * Where files live, by key: a card, a text, a bundle's zip and manifest. Keys are relative POSIX paths
 * ("outputs/<campaign>/<output>.png", "<campaign>/<slot>/bundle.zip"); the same key always names the same
 * bytes, so a retry writes the same key again. Two backends: local disk (the default) and an S3 bucket.
 */
export interface BlobStore {
  /** "disk" or "s3"; where() says the rest for logs, with no secret in it. */
  readonly kind: "disk" | "s3";
  where(key: string): string;
  /** Whole or not at all: readers never see a half-written blob. */
  put(
    key: string,
    body: Uint8Array | string | Readable,
    /** size: a stream's length when known (lets S3 upload it in one request when small). */
    opts?: { contentType?: string; size?: number },
  ): Promise<void>;
  /** The bytes; a missing key throws BlobNotFound. */
  get(key: string): Promise<Buffer>;
  /** The bytes as a stream (for bundles: never whole in memory); a missing key throws BlobNotFound. */
  stream(key: string): Promise<Readable>;
  /** Size in bytes, or undefined when the key does not exist. */
  size(key: string): Promise<number | undefined>;
  exists(key: string): Promise<boolean>;
  /** Removing a missing key is fine. */
  delete(key: string): Promise<void>;
  /** The file on this machine that holds the key, when the backend is local disk (zip reads it directly). */
  localPath(key: string): string | undefined;
}

export class BlobNotFound extends Error {
  constructor(readonly key: string) {
    super(`blob ${key} does not exist`);
    this.name = "BlobNotFound";
  }
}

/** Keys are relative POSIX paths with no "..", no empty part and no leading slash. */
export function checkKey(key: string): string {
  const parts = key.split("/");
  if (key.length === 0 || key.length > 900 || parts.some((p) => p === "" || p === "." || p === "..")) {
    throw new Error(`invalid blob key ${JSON.stringify(key)}`);
  }
  return key;
}
