import type { Config } from "../config.js";
import type { BlobStore } from "./blob-store.js";
import { diskBlobStore } from "./disk.js";
import { s3BlobStore } from "./s3.js";

export type { BlobStore } from "./blob-store.js";
export { BlobNotFound } from "./blob-store.js";

/**
 * The blob stores a role uses, from the validated config. `files`: cards and texts, keyed
 * "outputs/<campaign>/<output>.<ext>" (DATA_DIR on disk). `bundles`: delivered bundles keyed
 * "<campaign>/<slot>/bundle.zip" and ".../manifest.json", only with S3 storage; on disk a bundle's
 * folder in EXPORT_DIR is where it is delivered.
 */
export function createStorage(config: Pick<Config, "dataDir"> & Partial<Pick<Config, "storage">>): {
  files: BlobStore;
  bundles?: BlobStore;
} {
  // A hand-made config (tests) may leave storage out: the disk, as before.
  const s = config.storage ?? { kind: "disk" };
  if (s.kind === "disk") return { files: diskBlobStore(config.dataDir) };
  return {
    files: s3BlobStore(s),
    bundles: s3BlobStore({ ...s, prefix: `${s.prefix}bundles/` }),
  };
}
