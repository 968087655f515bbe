import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import type { Bundle } from "../domain/bundle.js";
import { AppError, notFound } from "../domain/errors.js";
import type { BlobStore } from "../storage/index.js";
import { BlobNotFound } from "../storage/index.js";
import type { Store } from "../store/store.js";

/** Default and longest life of a signed download link. */
export const LINK_TTL_S = 24 * 3600;
export const LINK_MAX_TTL_S = 7 * 24 * 3600;

/**
 * A signed download link's token: AES-256-GCM over "bundleId expiry" with a random nonce, so the token
 * reveals nothing (not even which bundle), cannot be altered (GCM's tag authenticates it, as an HMAC
 * would), works for that one bundle only and stops at its expiry. `key` is the deployment's signing key.
 */
export function signDownloadToken(key: Buffer, bundleId: string, expiresAt: Date): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", subkey(key), iv);
  const body = Buffer.concat([
    cipher.update(`${bundleId} ${Math.floor(expiresAt.getTime() / 1000)}`, "utf8"),
    cipher.final(),
  ]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64url");
}

/** The bundle id a token is for; invalid, altered or expired tokens throw `unauthorized`. */
export function readDownloadToken(key: Buffer, token: string, now = new Date()): string {
  const raw = /^[A-Za-z0-9_-]{40,400}$/.test(token) ? Buffer.from(token, "base64url") : Buffer.alloc(0);
  let plain: string;
  try {
    if (raw.length < 12 + 16 + 3) throw new Error("short");
    const decipher = createDecipheriv("aes-256-gcm", subkey(key), raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    plain = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString(
      "utf8",
    );
  } catch {
    throw new AppError("unauthorized", "this download link is not valid");
  }
  const [bundleId, exp] = plain.split(" ");
  if (!bundleId || !exp || Number(exp) * 1000 <= now.getTime()) {
    throw new AppError("unauthorized", "this download link has expired; ask for a new one");
  }
  return bundleId;
}

const subkey = (key: Buffer) =>
  createHash("sha256").update("testimony download links\0").update(key).digest();

/** A complete bundle's zip as a stream with its length, from S3 bundle storage or EXPORT_DIR. */
export async function openBundleZip(
  deps: { store: Store; exportDir: string; bundles?: BlobStore },
  bundleId: string,
): Promise<{ bundle: Bundle; stream: Readable; bytes: number }> {
  const found = /^b-[a-z0-9_-]+-\d+$/.test(bundleId) ? await deps.store.bundles.get(bundleId) : undefined;
  if (!found) throw notFound("bundle", bundleId);
  const bundle = found.value;
  if (bundle.status !== "complete") {
    throw new AppError(
      "invalid_state",
      `bundle ${bundleId} is ${bundle.status}: only a complete bundle downloads`,
    );
  }
  const missing = () => new AppError("not_found", `the zip of bundle ${bundleId} is missing from storage`);
  if (deps.bundles) {
    const key = `${bundle.dir}/bundle.zip`;
    const bytes = await deps.bundles.size(key);
    if (bytes === undefined) throw missing();
    try {
      return { bundle, stream: await deps.bundles.stream(key), bytes };
    } catch (err) {
      if (err instanceof BlobNotFound) throw missing();
      throw err;
    }
  }
  const file = path.join(deps.exportDir, bundle.dir, "bundle.zip");
  const bytes = await stat(file).then(
    (s) => s.size,
    () => undefined,
  );
  if (bytes === undefined) throw missing();
  return { bundle, stream: createReadStream(file), bytes };
}
