import { createHash } from "node:crypto";
import { z } from "zod";

/** Ids end up in Redis keys, BullMQ job ids (no ':' and not all digits) and file names. */
export const ID_PATTERN = /^(?=.*[a-z_-])[a-z0-9][a-z0-9_-]{0,63}$/;

export const idSchema = z
  .string()
  .regex(
    ID_PATTERN,
    "must be 1-64 of a-z, 0-9, '-', '_', start with a letter or digit, and not be all digits",
  );

export function stableId(prefix: string, ...parts: string[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p).update("\u0000");
  return `${prefix}-${h.digest("hex").slice(0, 16)}`;
}
