import path from "node:path";
import { type Bundle, bundleId, slotFolder } from "../../domain/bundle.js";
import type { Campaign } from "../../domain/campaign.js";
import { AppError } from "../../domain/errors.js";
import { selectForDrop } from "../../domain/exposure.js";
import type { Output } from "../../domain/output.js";
import { lastApproval } from "../../export/manifest.js";
import type { RawOp } from "../../store/commit.js";
import type { Versioned } from "../../store/entity.repo.js";
import { createExportOutputsStore } from "../../store/export-outputs.store.js";
import type { Store } from "../../store/store.js";
import { retryOnConflict } from "../retry.js";
import { stopIfBundleChanged } from "./mark-exported.js";
import { chunks, EXPORT_BATCH, eachBatch, type Paging } from "./pages.js";

const WEEK_MS = 7 * 24 * 3600 * 1000;

/** What a drop plan keeps of an output: enough to choose, list and reserve it, not the record. */
export type Candidate = {
  value: Pick<Output, "id" | "speakerId" | "format" | "locale">;
  speakerId: string;
  approvedAt: string;
};

/**
 * What a drop at `now` would take, read only and a page of records at a time: the approved outputs
 * not yet in a bundle, oldest approval first, round-robin across speakers up to the exposure caps
 * (`selected`), and those the caps keep for a later drop (`deferred`).
 */
export async function planDrop(
  store: Store,
  campaign: Campaign,
  now: Date,
  batch = EXPORT_BATCH * 2,
): Promise<{ selected: Candidate[]; deferred: Candidate[] }> {
  const free: Candidate[] = [];
  const ids = await store.outputs.ids([`campaign:${campaign.id}:status:approved`]);
  for (const chunk of chunks(ids, batch)) {
    for (const { value: o } of await store.outputs.getMany(chunk)) {
      if (o.status !== "approved" || o.bundleId) continue;
      free.push({
        value: { id: o.id, speakerId: o.speakerId, format: o.format, locale: o.locale },
        speakerId: o.speakerId,
        approvedAt: lastApproval(o).at,
      });
    }
  }
  free.sort((a, b) => a.approvedAt.localeCompare(b.approvedAt) || a.value.id.localeCompare(b.value.id));
  const per7Days = campaign.exposure.maxPerSpeakerPer7Days;
  const recent =
    per7Days === undefined
      ? new Map<string, number>()
      : await exportedSince(store, campaign.id, new Date(now.getTime() - WEEK_MS), batch);
  return selectForDrop(free, {
    perDrop: campaign.exposure.maxPerSpeakerPerDrop,
    per7Days,
    exportedLast7Days: (s) => recent.get(s) ?? 0,
  });
}

/**
 * Step 1 of a drop: choose the outputs (`planDrop`) and reserve them. First one commit writes the
 * `writing` bundle record, listing every chosen output and naming its owner, with the owner's lease
 * (`owner.lease`) and the audit entry; then the outputs are reserved a batch at a time (their
 * `bundleId` set, by revision, each batch guarded by the bundle's revision so none lands once another
 * drop released the bundle). An output changed meanwhile (withdrawn, taken by a concurrent drop) is
 * left out. Killed between batches, the bundle is `writing` with part of its outputs reserved: a rerun
 * of the slot finishes the reservation (`finishReservation`); any other drop, or `recoverDrops`,
 * releases it, freeing what it reserved. `record` is undefined when there is nothing to drop and no
 * takedown to carry; `heldBack` counts, per speaker, what the exposure cap keeps for a later drop.
 */
export async function reserve(
  store: Store,
  campaignId: string,
  slot: Date,
  actor: string,
  now: Date,
  /** `onReserved` is called once the bundle record (and the lease) is committed, before the outputs are. */
  owner: { id: string; lease: RawOp; onReserved?: () => void },
  paging: Paging = { batch: EXPORT_BATCH },
): Promise<{ record?: Versioned<Bundle>; heldBack: { speakerId: string; count: number }[] }> {
  const id = bundleId(campaignId, slot);
  const already = await store.bundles.get(id);
  // Another process reserved this slot first; a released one is reserved afresh.
  if (already && already.value.status !== "released") return { record: already, heldBack: [] };
  const campaign = (await store.campaigns.get(campaignId))!.value;
  const { selected, deferred } = await planDrop(store, campaign, now);
  const held = new Map<string, number>();
  for (const d of deferred) held.set(d.speakerId, (held.get(d.speakerId) ?? 0) + 1);
  const heldBack = [...held].map(([speakerId, count]) => ({ speakerId, count }));
  const takedowns = (await store.redis.smembers(store.takedownsKey(campaignId))).sort();
  const at = now.toISOString();
  if (selected.length === 0 && takedowns.length === 0) {
    await store.audit.append({
      actor,
      action: "bundle.nothing_to_drop",
      entity: campaignId,
      at,
      detail: slot.toISOString(),
    });
    return { heldBack };
  }
  const bundle: Bundle = {
    id,
    campaignId,
    slot: slot.toISOString(),
    status: "writing",
    outputIds: selected.map((c) => c.value.id),
    takedowns,
    dir: path.join(campaignId, slotFolder(slot)),
    createdAt: at,
    createdBy: actor,
    owner: owner.id,
  };
  // A concurrent reservation of this slot makes this fail on the bundle's revision; the caller retries.
  await store.bundles.commit({
    writes: [store.bundles.write(bundle, already)],
    audit: [
      {
        actor,
        action: "bundle.reserved",
        entity: id,
        to: "writing",
        at,
        detail: `${selected.length} outputs`,
      },
    ],
    ops: [owner.lease],
  });
  const record = { value: bundle, rev: (already?.rev ?? 0) + 1 };
  owner.onReserved?.();
  await reserveOutputs(store, record, paging);
  return { record, heldBack };
}

/**
 * The rest of a reservation a killed drop of this slot did not finish: every listed output still
 * approved and free is reserved now. Idempotent; nothing to do when the reservation was complete.
 */
export async function finishReservation(store: Store, record: Versioned<Bundle>, paging: Paging) {
  await reserveOutputs(store, record, paging);
}

async function reserveOutputs(store: Store, record: Versioned<Bundle>, paging: Paging) {
  const id = record.value.id;
  const byId = createExportOutputsStore(store);
  const bundle = { id, campaignId: record.value.campaignId, rev: record.rev };
  await eachBatch(record.value.outputIds, paging, "reserve-batch", async (chunk) => {
    await retryOnConflict(
      async () => {
        // In Redis, by id: no record is read here or sent back (src/store/export-outputs.store.ts).
        const done = await byId.reserve(bundle, chunk);
        if (done.kind === "done") return;
        if (done.kind === "conflict") {
          await stopIfBundleChanged(store, record, "reserving its outputs");
          throw new AppError("conflict", `bundle ${id} changed meanwhile`);
        }
        await reserveByRecords(store, record, chunk);
      },
      { tries: 10, exhausted: `bundle ${id}: could not reserve its outputs after 10 tries` },
    );
  });
}

/** The generic path, for a batch the script leaves alone: records read, then written back by revision. */
async function reserveByRecords(store: Store, record: Versioned<Bundle>, chunk: string[]) {
  const id = record.value.id;
  const free = (await store.outputs.getMany(chunk)).filter(
    (v) => v.value.status === "approved" && !v.value.bundleId,
  );
  if (!free.length) return;
  try {
    await store.outputs.commit({
      writes: [
        store.bundles.guard(record),
        ...free.map((v) => store.outputs.write({ ...v.value, bundleId: id }, v)),
      ],
    });
  } catch (err) {
    await stopIfBundleChanged(store, record, "reserving its outputs");
    throw err;
  }
}

/** Outputs still in review when their campaign's drop fires are marked so reviewers see what they missed. */
export async function markMissedDrops(store: Store, campaignId: string, slot: Date, now: Date) {
  const label = slot.toISOString();
  const at = now.toISOString();
  const ids = await store.outputs.ids([`campaign:${campaignId}:status:in_review`]);
  for (const chunk of chunks(ids, EXPORT_BATCH)) {
    for (const v of await store.outputs.getMany(chunk)) {
      if (v.value.status !== "in_review" || v.value.missedDrops.includes(label)) continue;
      try {
        await store.outputs.commit({
          writes: [
            store.outputs.write(
              { ...v.value, missedDrops: [...v.value.missedDrops, label], updatedAt: at },
              v,
            ),
          ],
        });
      } catch (err) {
        if (!(err instanceof AppError) || err.code !== "conflict") throw err; // decided meanwhile: no longer missed
      }
    }
  }
}

/** Outputs of the campaign exported since `since`, per speaker, counted a page at a time. */
async function exportedSince(
  store: Store,
  campaignId: string,
  since: Date,
  batch: number,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const ids = await store.outputs.ids([`campaign:${campaignId}:status:exported`]);
  for (const chunk of chunks(ids, batch)) {
    for (const { value: o } of await store.outputs.getMany(chunk)) {
      if (o.exportedAt && Date.parse(o.exportedAt) >= since.getTime())
        counts.set(o.speakerId, (counts.get(o.speakerId) ?? 0) + 1);
    }
  }
  return counts;
}
