import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import { type Bundle, bundleId, unfinishedBundleAction } from "../../domain/bundle.js";
import { AppError } from "../../domain/errors.js";
import type { ExportLeaseStore } from "../../store/export-lease.store.js";
import type { Store } from "../../store/store.js";
import type { ExportDeps } from "../export.service.js";
import { retryOnConflict } from "../retry.js";
import { exists } from "./bundle-folder.js";
import { ownerIsDeadHere, takeLease } from "./lease.js";
import { readWrittenManifest } from "./manifest-file.js";
import { markExported, stopIfBundleChanged } from "./mark-exported.js";
import { eachBatch, type Paging } from "./pages.js";
import { publishBundle } from "./publish.js";

export type Recovered = {
  bundleId: string;
  slot: string;
  /** completed: its folder was in place; released: rolled back, outputs eligible again; left: a live exporter holds it. */
  action: "completed" | "released" | "left";
  outputs: number;
  owner?: string;
};

type Ctx = { owner: string; leaseMs: number; actor: string; leases: ExportLeaseStore; paging: Paging };

/**
 * Before a drop: every unfinished (`writing`) bundle of the campaign is finished or released, unless a
 * live exporter holds its lease; then stale hidden temp folders are removed. Returns what it did, and
 * whether the drop's own slot has a bundle to resume (its lease is then ours).
 */
export async function recoverUnfinished(
  deps: ExportDeps,
  campaignId: string,
  ownSlot: Date,
  ctx: Ctx,
): Promise<{ recovered: Recovered[]; resumeOwn: boolean }> {
  const { store } = deps;
  const ownId = bundleId(campaignId, ownSlot);
  const writing = await store.bundles.getMany(
    await store.bundles.ids([`campaign:${campaignId}`, "status:writing"]),
  );
  const recovered: Recovered[] = [];
  let resumeOwn = false;
  for (const { value: b } of writing) {
    const taken = await takeLease(ctx.leases, b.id, ctx.owner, ctx.leaseMs);
    const heldBy = taken === "ok" ? undefined : taken;
    const folderInPlace = await exists(path.join(deps.exportDir, b.dir, "manifest.json"));
    const action = unfinishedBundleAction({
      folderInPlace,
      heldByLiveOwner: heldBy !== undefined,
      ownSlot: b.id === ownId,
    });
    if (action === "leave") {
      if (b.id === ownId) {
        throw new AppError(
          "conflict",
          `bundle ${b.id} is being written by ${heldBy} right now; try again when it is done`,
        );
      }
      recovered.push({
        bundleId: b.id,
        slot: b.slot,
        action: "left",
        outputs: b.outputIds.length,
        owner: heldBy,
      });
      deps.log.info(
        { bundleId: b.id, owner: heldBy },
        "unfinished bundle left alone: a live exporter holds it",
      );
      continue;
    }
    if (action === "resume") {
      resumeOwn = true;
      continue;
    }
    try {
      if (action === "complete") {
        const written = await readWrittenManifest(path.join(deps.exportDir, b.dir, "manifest.json"));
        // With S3 storage the bundle reaches the bucket before it is marked complete.
        if (deps.bundles)
          await publishBundle(deps.bundles, path.join(deps.exportDir, b.dir), b.dir, deps.log);
        const done = await markExported(store, b, written.ids, written.zip, ctx.actor, ctx.paging);
        recovered.push({ bundleId: b.id, slot: b.slot, action: "completed", outputs: done.outputIds.length });
        deps.log.warn({ bundleId: b.id }, "unfinished bundle found in place: completed it");
      } else {
        const n = await releaseBundle(
          store,
          b.id,
          ctx.actor,
          "its drop failed or died before the bundle was in place",
          ctx.paging,
        );
        await removeTemporaries(deps.exportDir, b.dir);
        recovered.push({ bundleId: b.id, slot: b.slot, action: "released", outputs: n });
        deps.log.warn(
          { bundleId: b.id, outputs: n },
          "unfinished bundle released: its outputs are eligible again",
        );
      }
    } finally {
      if (b.id !== ownId) await ctx.leases.release(b.id, ctx.owner);
    }
  }
  await removeStaleTemporaries(deps.exportDir, campaignId, ctx);
  return { recovered, resumeOwn };
}

/**
 * writing → released: its outputs lose their reservation (eligible for the next drop), it lists none,
 * and the audit says why. In batches: first the bundle record is rewritten (its revision moves, so
 * the drop that reserved it, should it still be running, can land no further batch), then its
 * outputs are freed a batch at a time, each batch guarded by that revision, then the bundle is
 * `released`. Killed between batches, the bundle is still `writing`: the next drop releases it again
 * and frees the rest. Returns how many outputs this call freed.
 */
export async function releaseBundle(
  store: Store,
  id: string,
  actor: string,
  reason: string,
  paging: Paging,
): Promise<number> {
  const tries = { tries: 10, exhausted: `bundle ${id}: could not release it after 10 tries` };
  const claimed = await retryOnConflict(async () => {
    const cur = await store.bundles.get(id);
    if (cur?.value.status !== "writing") return undefined;
    await store.bundles.commit({ writes: [store.bundles.write(cur.value, cur)] });
    return { value: cur.value, rev: cur.rev + 1 };
  }, tries);
  if (!claimed) return 0;
  let freed = 0;
  await eachBatch(claimed.value.outputIds, paging, "release-batch", async (chunk) => {
    freed += await retryOnConflict(async () => {
      const outs = (await store.outputs.getMany(chunk)).filter(
        (v) => v.value.bundleId === id && v.value.status !== "exported",
      );
      const at = new Date().toISOString();
      try {
        await store.outputs.commit({
          writes: [
            store.bundles.guard(claimed),
            ...outs.map((v) => store.outputs.write({ ...v.value, bundleId: undefined, updatedAt: at }, v)),
          ],
        });
      } catch (err) {
        await stopIfBundleChanged(store, claimed, "releasing it");
        throw err;
      }
      return outs.length;
    }, tries);
  });
  await retryOnConflict(async () => {
    const cur = await store.bundles.get(id);
    if (cur?.value.status !== "writing") return;
    const at = new Date().toISOString();
    const released: Bundle = {
      ...cur.value,
      status: "released",
      outputIds: [],
      takedowns: [],
      releasedAt: at,
      releasedReason: reason,
    };
    await store.bundles.commit({
      writes: [store.bundles.write(released, cur)],
      audit: [
        {
          actor,
          action: "bundle.released",
          entity: id,
          from: "writing",
          to: "released",
          at,
          detail: `${reason}; ${freed} outputs eligible again`,
        },
      ],
    });
  }, tries);
  return freed;
}

/** `.<slot folder>.<nonce>.tmp`: a bundle being written, never renamed into place. */
const TEMP = /^\.(.+)\.[0-9a-f]+\.tmp$/;

export async function removeTemporaries(exportDir: string, dir: string) {
  const parent = path.join(exportDir, path.dirname(dir));
  const prefix = `.${path.basename(dir)}.`;
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    if (name.startsWith(prefix) && name.endsWith(".tmp"))
      await rm(path.join(parent, name), { recursive: true, force: true });
  }
}

/** Slot folder name back to its instant: `2026-11-23T06-00-00Z` → 2026-11-23T06:00:00Z. */
const slotOfFolder = (folder: string) => new Date(folder.replace(/T(\d\d)-(\d\d)-(\d\d)Z$/, "T$1:$2:$3Z"));

/** Temp folders left by crashed drops: removed unless a live exporter holds their bundle's lease. */
async function removeStaleTemporaries(exportDir: string, campaignId: string, ctx: Ctx) {
  const parent = path.join(exportDir, campaignId);
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    const m = TEMP.exec(name);
    if (!m) continue;
    const slot = slotOfFolder(m[1]!);
    if (!Number.isNaN(slot.getTime())) {
      const holder = await ctx.leases.holder(bundleId(campaignId, slot));
      if (holder && holder !== ctx.owner && !ownerIsDeadHere(holder)) continue; // being written right now
    }
    await rm(path.join(parent, name), { recursive: true, force: true });
  }
}
