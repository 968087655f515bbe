import type { Bundle } from "../../domain/bundle.js";
import { AppError, notFound } from "../../domain/errors.js";
import { move, type Output } from "../../domain/output.js";
import type { RawOp } from "../../store/commit.js";
import type { Versioned } from "../../store/entity.repo.js";
import type { Store } from "../../store/store.js";
import { retryOnConflict } from "../retry.js";
import { eachBatch, type Paging, readAhead } from "./pages.js";

/**
 * Step 3: what the folder holds becomes exported; what was withdrawn meanwhile becomes a takedown.
 * In batches (one commit each, every one guarded by the bundle's revision, so a batch never lands
 * once another drop has completed or released this bundle), then the bundle becomes `complete` in a
 * last commit. A drop killed between batches leaves the bundle `writing` with its folder in place:
 * the next drop (or `recoverDrops`) runs this again, which skips what is already exported.
 */
export async function markExported(
  store: Store,
  bundle: Bundle,
  inFolder: string[],
  zip: { sha256: string; bytes: number },
  actor: string,
  paging: Paging,
): Promise<Bundle> {
  const start = await store.bundles.get(bundle.id);
  if (!start) throw notFound("bundle", bundle.id);
  if (start.value.status === "complete") return start.value;
  if (start.value.status !== "writing") {
    throw new AppError(
      "invalid_state",
      `bundle ${bundle.id} was ${start.value.status} meanwhile; not marked exported`,
    );
  }
  const ids = [...inFolder].sort();
  let exported = 0;
  const records = readAhead((ids: string[]) => store.outputs.getMany(ids));
  await eachBatch(ids, paging, "mark-batch", async (chunk, next) => {
    exported += await markBatch(store, start, chunk, actor, records, next);
  });
  return retryOnConflict(
    async () => {
      const current = await store.bundles.get(bundle.id);
      if (!current) throw notFound("bundle", bundle.id);
      if (current.value.status === "complete") return current.value;
      const at = new Date().toISOString();
      const complete: Bundle = {
        ...current.value,
        outputIds: ids,
        status: "complete",
        zipSha256: zip.sha256,
        bytes: zip.bytes,
        completedAt: at,
      };
      await store.bundles.commit({
        writes: [store.bundles.write(complete, current)],
        audit: [
          {
            actor,
            action: "bundle.complete",
            entity: bundle.id,
            from: "writing",
            to: "complete",
            at,
            detail: `${exported} outputs, ${bundle.takedowns.length} takedowns`,
          },
        ],
      });
      return complete;
    },
    { tries: 10, exhausted: `bundle ${bundle.id}: could not mark it complete after 10 tries` },
  );
}

/** One batch: approved → exported (this bundle's only), withdrawn → takedown. Returns how many are exported with it. */
async function markBatch(
  store: Store,
  bundle: Versioned<Bundle>,
  ids: string[],
  actor: string,
  records: ReturnType<typeof readAhead<Versioned<Output>[]>>,
  next: string[] | undefined,
) {
  const id = bundle.value.id;
  const read = records.forBatch(ids, next);
  return retryOnConflict(
    async () => {
      const outputs = await read();
      const at = new Date().toISOString();
      // Reserved by this bundle only: an output is never exported by a bundle that does not hold it.
      const exported = outputs.filter((v) => v.value.status === "approved" && v.value.bundleId === id);
      const before = outputs.filter((v) => v.value.status === "exported" && v.value.bundleId === id).length;
      const ops: RawOp[] = outputs
        .filter((v) => v.value.status === "withdrawn")
        .map((v) => ["SADD", store.takedownsKey(bundle.value.campaignId), v.value.id]);
      try {
        await store.outputs.commit({
          writes: [
            store.bundles.guard(bundle),
            ...exported.map((v) =>
              store.outputs.write(move(v.value, "exported", at, { exportedAt: at, bundleId: id }), v),
            ),
          ],
          ops,
          audit: exported.map((v) => ({
            actor,
            action: "output.exported",
            entity: v.value.id,
            from: "approved",
            to: "exported",
            at,
            detail: id,
          })),
        });
      } catch (err) {
        await stopIfBundleChanged(store, bundle, "marking its outputs exported");
        throw err;
      }
      return before + exported.length;
    },
    { tries: 10, exhausted: `bundle ${id}: could not mark its outputs exported after 10 tries` },
  );
}

/**
 * After a conflicting batch: when the bundle itself changed (another drop completed, released or
 * re-reserved it), this drop stops for good instead of retrying; otherwise an output changed, retry.
 */
export async function stopIfBundleChanged(store: Store, bundle: Versioned<Bundle>, doing: string) {
  const now = await store.bundles.get(bundle.value.id);
  if (now?.rev !== bundle.rev) {
    throw new AppError(
      "invalid_state",
      `bundle ${bundle.value.id} was changed by another drop while this one was ${doing} (now ${now?.value.status ?? "gone"}); this drop stops`,
    );
  }
}
