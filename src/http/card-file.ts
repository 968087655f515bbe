import { readFile } from "node:fs/promises";
import path from "node:path";
import { AppError } from "../domain/errors.js";
import type { Output } from "../domain/output.js";
import { BlobNotFound, type BlobStore } from "../storage/index.js";

const TYPES: Record<string, string> = { png: "image/png", jpeg: "image/jpeg", webp: "image/webp" };

/**
 * The card's bytes from DATA_DIR, or from blob storage when given one (S3); a path that would leave
 * DATA_DIR is treated as missing.
 */
export async function readCard(
  dataDir: string | BlobStore,
  output: Output,
): Promise<{ bytes: Buffer; type: string; etag?: string }> {
  const rel = output.files?.card;
  if (!rel) throw new AppError("not_found", `output ${output.id} has no card (it is ${output.status})`);
  if (typeof dataDir !== "string") return readCardBlob(dataDir, output, rel);
  const root = path.resolve(dataDir);
  const file = path.resolve(root, rel);
  if (!file.startsWith(root + path.sep)) throw new AppError("not_found", `output ${output.id} has no card`);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new AppError("not_found", `the card file of output ${output.id} is missing from DATA_DIR`);
    }
    throw err;
  }
  const sum = output.sha256?.[rel];
  return {
    bytes,
    type: TYPES[output.encoding] ?? "application/octet-stream",
    etag: sum ? `"${sum}"` : undefined,
  };
}

async function readCardBlob(files: BlobStore, output: Output, rel: string) {
  let bytes: Buffer;
  try {
    bytes = await files.get(rel);
  } catch (err) {
    if (err instanceof BlobNotFound || /invalid blob key/.test((err as Error).message)) {
      throw new AppError("not_found", `the card file of output ${output.id} is missing from storage`);
    }
    throw err;
  }
  const sum = output.sha256?.[rel];
  return {
    bytes,
    type: TYPES[output.encoding] ?? "application/octet-stream",
    etag: sum ? `"${sum}"` : undefined,
  };
}
