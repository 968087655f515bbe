import { readFile } from "node:fs/promises";
import path from "node:path";
import { AppError } from "../domain/errors.js";
import type { Output } from "../domain/output.js";

const TYPES: Record<string, string> = { png: "image/png", jpeg: "image/jpeg", webp: "image/webp" };

/** The card's bytes from DATA_DIR; a path that would leave DATA_DIR is treated as missing. */
export async function readCard(
  dataDir: string,
  output: Output,
): Promise<{ bytes: Buffer; type: string; etag?: string }> {
  const rel = output.files?.card;
  if (!rel) throw new AppError("not_found", `output ${output.id} has no card (it is ${output.status})`);
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
