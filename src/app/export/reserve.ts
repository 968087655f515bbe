import path from "node:path";
import { type Bundle, bundleId, slotFolder } from "../../domain/bundle.js";
import type { Campaign } from "../../domain/campaign.js";
import { AppError } from "../../domain/errors.js";
import { selectForDrop } from "../../domain/exposure.js";
import { lastApproval } from "../../export/manifest.js";
import type { RawOp } from "../../store/commit.js";
import type { Store } from "../../store/store.js";

const WEEK_MS = 7 * 24 * 3600 * 1000;

/**
 * Step 1 of a drop: choose the approved outputs (oldest approval first, round-robin across speakers up
 * to the exposure cap) and reserve them in a `writing` bundle record, by revision, in one commit.
 * The reservation carries its owner, and `lease` (the owner's lease key) is set in the same commit.
 * `record` is undefined when there is nothing to drop and no takedown to carry; `heldBack` counts,
 * per speaker, the approved outputs the exposure cap keeps for a later drop.
 */
export async function reserve(
  store: Store,
  campaignId: string,
  slot: Date,
  actor: string,
  now: Date,
  owner: { id: string; lease: RawOp },
): Promise<{ record?: { value: Bundle; rev: number }; heldBack: { speakerId: string; count: number }[] }> {
  const already = await store.bundles.get(bundleId(campaignId, slot));
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
  const id = bundleId(campaignId, slot);
  const bundle: Bundle = {
    id,
    campaignId,
    slot: slot.toISOString(),
    status: "writing",
    outputIds: selected.map((v) => v.value.id),
    takedowns,
    dir: path.join(campaignId, slotFolder(slot)),
    createdAt: at,
    createdBy: actor,
    owner: owner.id,
  };
  await store.bundles.commit({
    writes: [
      store.bundles.write(bundle, already),
      // Reserving by revision: an output another drop (or a withdrawal) touched meanwhile makes this fail and retry.
      ...selected.map((v) => store.outputs.write({ ...v.value, bundleId: id }, v)),
    ],
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
  return { record: { value: bundle, rev: (already?.rev ?? 0) + 1 }, heldBack };
}

/**
 * What a drop at `now` would take, read only: the approved outputs not yet in a bundle, oldest approval
 * first, round-robin across speakers up to the exposure caps (`selected`), and those the caps keep for a
 * later drop (`deferred`). `reserve` commits this choice; the workspace's drops page shows it.
 */
export async function planDrop(store: Store, campaign: Campaign, now: Date) {
  const campaignId = campaign.id;
  const approved = (
    await store.outputs.getMany(await store.outputs.ids([`campaign:${campaignId}:status:approved`]))
  )
    .filter((v) => !v.value.bundleId)
    .sort(
      (a, b) =>
        lastApproval(a.value).at.localeCompare(lastApproval(b.value).at) ||
        a.value.id.localeCompare(b.value.id),
    );
  const recent = await exportedSince(store, campaignId, new Date(now.getTime() - WEEK_MS));
  return selectForDrop(
    approved.map((v) => ({ ...v, speakerId: v.value.speakerId })),
    {
      perDrop: campaign.exposure.maxPerSpeakerPerDrop,
      per7Days: campaign.exposure.maxPerSpeakerPer7Days,
      exportedLast7Days: (s) => recent.get(s) ?? 0,
    },
  );
}

export /** Outputs still in review when their campaign's drop fires are marked so reviewers see what they missed. */
async function markMissedDrops(store: Store, campaignId: string, slot: Date, now: Date) {
  const label = slot.toISOString();
  const pending = await store.outputs.getMany(
    await store.outputs.ids([`campaign:${campaignId}:status:in_review`]),
  );
  const at = now.toISOString();
  for (const v of pending) {
    if (v.value.missedDrops.includes(label)) continue;
    try {
      await store.outputs.commit({
        writes: [
          store.outputs.write({ ...v.value, missedDrops: [...v.value.missedDrops, label], updatedAt: at }, v),
        ],
      });
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== "conflict") throw err; // decided meanwhile: no longer missed
    }
  }
}

async function exportedSince(store: Store, campaignId: string, since: Date): Promise<Map<string, number>> {
  const exported = (await store.outputs.list([`campaign:${campaignId}:status:exported`])).filter(
    (o) => o.exportedAt && Date.parse(o.exportedAt) >= since.getTime(),
  );
  const counts = new Map<string, number>();
  for (const o of exported) counts.set(o.speakerId, (counts.get(o.speakerId) ?? 0) + 1);
  return counts;
}
