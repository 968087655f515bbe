import type { Bundle } from "../../domain/bundle.js";
import { AppError, notFound } from "../../domain/errors.js";
import { move } from "../../domain/output.js";
import type { RawOp } from "../../store/commit.js";
import type { Versioned } from "../../store/entity.repo.js";
import { createExportOutputsStore, type ExportOutputsStore } from "../../store/export-outputs.store.js";
import type { Store } from "../../store/store.js";
import { retryOnConflict } from "../retry.js";
import { eachBatch, type Paging } from "./pages.js";

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
  const byId = createExportOutputsStore(store);
  await eachBatch(ids, paging, "mark-batch", async (chunk) => {
    exported += await markBatch(store, byId, start, chunk, actor);
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
  byId: ExportOutputsStore,
  bundle: Versioned<Bundle>,
  ids: string[],
  actor: string,
) {
  const id = bundle.value.id;
  const key = { id, campaignId: bundle.value.campaignId, rev: bundle.rev };
  return retryOnConflict(
    async () => {
      const at = new Date().toISOString();
      // In Redis, by id: no record is read here or sent back (src/store/export-outputs.store.ts).
      const done = await byId.mark(key, ids, { at, actor });
      if (done.kind === "done") return done.codes.filter((c) => c === "E" || c === "A").length;
      if (done.kind === "conflict") {
        await stopIfBundleChanged(store, bundle, "marking its outputs exported");
        throw new AppError("conflict", `bundle ${id} changed meanwhile`);
      }
      return markByRecords(store, bundle, ids, actor, at);
    },
    { tries: 10, exhausted: `bundle ${id}: could not mark its outputs exported after 10 tries` },
  );
}

/** The generic path, for a batch the script leaves alone: records read, then written back by revision. */
async function markByRecords(
  store: Store,
  bundle: Versioned<Bundle>,
  ids: string[],
  actor: string,
  at: string,
) {
  const id = bundle.value.id;
  const outputs = await store.outputs.getMany(ids);
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
