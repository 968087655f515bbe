import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { storeBrandLogo } from "../app/brand.service.js";
import { AppError } from "../domain/errors.js";
import type { Store } from "../store/store.js";

const DATA_URL = /^data:image\/(png|svg\+xml);base64,([A-Za-z0-9+/=\s]+)$/;
const BLOB = /^blob:[0-9a-f]{64}$/;
const MAX_BYTES = 2_000_000;

/**
 * The CLI reads a logo from a path next to the campaign file; over HTTP a path would let a caller read
 * files on the server, so the API takes the image itself as a data: URL (or an existing blob: reference)
 * and stores it through the same brand service.
 */
export async function uploadedLogo(
  store: Store,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const brand = body.brand as Record<string, unknown> | undefined;
  const logo = brand && typeof brand === "object" ? brand.logo : undefined;
  if (logo === undefined || (typeof logo === "string" && BLOB.test(logo))) return body;
  const m = typeof logo === "string" ? DATA_URL.exec(logo) : null;
  if (!m) {
    throw new AppError(
      "invalid_input",
      "brand.logo must be a data: URL (PNG or SVG, base64) or a blob: reference",
      [
        {
          where: "body",
          field: "brand.logo",
          message: "a data:image/png;base64,... or data:image/svg+xml;base64,... URL",
        },
      ],
    );
  }
  const bytes = Buffer.from(m[2]!, "base64");
  if (bytes.length === 0 || bytes.length > MAX_BYTES) {
    throw new AppError("invalid_input", "brand.logo must be between 1 byte and 2 MB", [
      { where: "body", field: "brand.logo", message: "empty or larger than 2 MB" },
    ]);
  }
  const dir = await mkdtemp(path.join(tmpdir(), "testimony-logo-"));
  try {
    const file = path.join(dir, m[1] === "png" ? "logo.png" : "logo.svg");
    await writeFile(file, bytes);
    const ref = await storeBrandLogo(store, file, "body");
    return { ...body, brand: { ...brand, logo: ref } };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
