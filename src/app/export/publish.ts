import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "../../logger.js";
import type { BlobStore } from "../../storage/index.js";

/**
 * Copies a written bundle folder into bundle storage, streaming (one multipart part in memory at a time):
 * the zip first, then the manifest, so a manifest in storage means its zip is there. Idempotent: a rerun
 * after a crash puts the same keys again.
 */
export async function publishBundle(bundles: BlobStore, dirAbs: string, dir: string, log: Logger) {
  const started = Date.now();
  for (const [name, type] of [
    ["bundle.zip", "application/zip"],
    ["manifest.json", "application/json"],
  ] as const) {
    const file = path.join(dirAbs, name);
    const size = (await stat(file)).size;
    await bundles.put(`${dir}/${name}`, createReadStream(file), { size, contentType: type });
  }
  log.info({ to: bundles.where(`${dir}/bundle.zip`), ms: Date.now() - started }, "bundle stored");
}
