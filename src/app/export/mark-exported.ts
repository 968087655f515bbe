import type { Bundle } from "../../domain/bundle.js";
import { notFound } from "../../domain/errors.js";
import { move } from "../../domain/output.js";
import type { RawOp } from "../../store/commit.js";
import type { Store } from "../../store/store.js";
import { retryOnConflict } from "../retry.js";

export /** Step 3, retried on conflicts: what the folder holds becomes exported; what was withdrawn meanwhile becomes a takedown. */
async function markExported(
  store: Store,
  bundle: Bundle,
  inFolder: Set<string>,
  zip: { sha256: string; bytes: number },
  actor: string,
) {
  return retryOnConflict(
    async () => {
      const current = await store.bundles.get(bundle.id);
      if (!current) throw notFound("bundle", bundle.id);
      if (current.value.status === "complete") return current.value;
      const outputs = await store.outputs.getMany([...inFolder]);
      const at = new Date().toISOString();
      const exported = outputs.filter((v) => v.value.status === "approved");
      const withdrawnAfterWriting = outputs.filter((v) => v.value.status === "withdrawn");
      const ops: RawOp[] = withdrawnAfterWriting.map((v) => [
        "SADD",
        store.takedownsKey(bundle.campaignId),
        v.value.id,
      ]);
      const complete: Bundle = {
        ...current.value,
        outputIds: [...inFolder].sort(),
        status: "complete",
        zipSha256: zip.sha256,
        bytes: zip.bytes,
        completedAt: at,
      };
      await store.bundles.commit({
        writes: [
          store.bundles.write(complete, current),
          ...exported.map((v) =>
            store.outputs.write(move(v.value, "exported", at, { exportedAt: at, bundleId: bundle.id }), v),
          ),
        ],
        ops,
        audit: [
          {
            actor,
            action: "bundle.complete",
            entity: bundle.id,
            from: "writing",
            to: "complete",
            at,
            detail: `${exported.length} outputs, ${bundle.takedowns.length} takedowns`,
          },
          ...exported.map((v) => ({
            actor,
            action: "output.exported",
            entity: v.value.id,
            from: "approved",
            to: "exported",
            at,
            detail: bundle.id,
          })),
        ],
      });
      return complete;
    },
    { tries: 10, exhausted: `bundle ${bundle.id}: could not mark its outputs exported after 10 tries` },
  );
}
