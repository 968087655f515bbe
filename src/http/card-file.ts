import { AppError } from "../domain/errors.js";
import type { Output } from "../domain/output.js";
import { diskBlobStore } from "../storage/disk.js";
import { BlobNotFound, type BlobStore } from "../storage/index.js";
import type { AppDeps } from "./deps.js";

const TYPES: Record<string, string> = { png: "image/png", jpeg: "image/jpeg", webp: "image/webp" };

/** Where cards are read from: the app's blob storage (S3), or DATA_DIR on disk through the same interface. */
export const cardStore = (deps: Pick<AppDeps, "files" | "dataDir">): BlobStore =>
  deps.files ?? diskBlobStore(deps.dataDir);

/** The card's bytes from storage; a key that is malformed or would leave the store is treated as missing. */
export async function readCard(
  files: BlobStore,
  output: Output,
): Promise<{ bytes: Buffer; type: string; etag?: string }> {
  const rel = output.files?.card;
  if (!rel) throw new AppError("not_found", `output ${output.id} has no card (it is ${output.status})`);
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
