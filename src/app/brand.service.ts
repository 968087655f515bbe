import { readFile } from "node:fs/promises";
import type { Brand } from "../domain/campaign.js";
import { AppError } from "../domain/errors.js";
import { normaliseBrandImage } from "../render/card/brand-image.js";
import { CardError } from "../render/card/card.render.js";
import { sha256 } from "../render/files.js";
import type { Store } from "../store/store.js";

const BLOB = /^blob:([0-9a-f]{64})$/;

/**
 * Brand images are re-encoded once, when a campaign is saved (no metadata survives), and kept in
 * Redis, the system of record, so every worker on every machine renders the same logo.
 */
export async function storeBrandLogo(
  store: Store,
  logo: string | undefined,
  where: string,
): Promise<string | undefined> {
  if (!logo || BLOB.test(logo)) return logo;
  let bytes: Buffer;
  try {
    bytes = await readFile(logo);
  } catch {
    throw new AppError("invalid_input", `${where}: brand.logo: cannot read ${logo}`, [
      { where, field: "brand.logo", message: "cannot read the file" },
    ]);
  }
  let png: Buffer;
  try {
    png = await normaliseBrandImage(bytes);
  } catch (err) {
    if (err instanceof CardError) {
      throw new AppError("invalid_input", `${where}: brand.logo: ${err.message}`, [
        { where, field: "brand.logo", message: err.message },
      ]);
    }
    throw err;
  }
  const digest = sha256(png);
  await store.redis.set(store.keys.misc(`blob:${digest}`), png);
  return `blob:${digest}`;
}

const cache = new Map<string, Buffer>();

export async function loadBrandLogo(store: Store, brand: Brand): Promise<Buffer | undefined> {
  const m = brand.logo ? BLOB.exec(brand.logo) : null;
  if (!m) return undefined;
  const hit = cache.get(m[1]!);
  if (hit) return hit;
  const bytes = await store.redis.getBuffer(store.keys.misc(`blob:${m[1]}`));
  if (!bytes) throw new CardError("bad_brand", `brand logo ${m[1]!.slice(0, 12)} is missing from the store`);
  if (cache.size > 50) cache.clear();
  cache.set(m[1]!, bytes);
  return bytes;
}
