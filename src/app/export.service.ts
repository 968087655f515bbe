import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { type Bundle, bundleId, slotFolder } from "../domain/bundle.js";
import type { Campaign } from "../domain/campaign.js";
import { AppError, notFound } from "../domain/errors.js";
import { selectForDrop } from "../domain/exposure.js";
import { move, type Output } from "../domain/output.js";
import { findRedactionHit } from "../domain/redaction.js";
import { buildManifest, cardEntryName, lastApproval, textEntryName } from "../export/manifest.js";
import { writeZip, type ZipEntry } from "../export/zip.js";
import type { Logger } from "../logger.js";
import type { RawOp } from "../store/commit.js";
import type { Store } from "../store/store.js";
import { expireConsents, publishedTexts, termsFor } from "./safety.service.js";

export type ExportStep = "reserved" | "written" | "renamed";
export type ExportDeps = {
  store: Store;
  dataDir: string;
  exportDir: string;
  log: Logger;
  /** Called after each crash-safe step; the crash drills kill the process here. */
  afterStep?: (step: ExportStep) => Promise<void> | void;
};
export type ExportResult =
  | { status: "empty"; bundleId: string }
  | { status: "written" | "already-complete"; bundle: Bundle };

const WEEK_MS = 7 * 24 * 3600 * 1000;

/**
 * One drop of one campaign for one slot. Crash-safe in three steps: (1) reserve the chosen outputs in a
 * `writing` bundle record, (2) write zip + manifest into a temporary folder and rename it into place,
 * (3) mark the outputs exported and the bundle complete in one atomic commit. A rerun of the same slot
 * resumes from whichever step it finds done; an output is never in two bundles.
 */
export async function exportSlot(
  deps: ExportDeps,
  opts: { campaignId: string; slot: Date; actor: string; now?: Date },
): Promise<ExportResult> {
  const { store } = deps;
  const campaign = (await store.campaigns.get(opts.campaignId))?.value;
  if (!campaign) throw notFound("campaign", opts.campaignId);
  const id = bundleId(campaign.id, opts.slot);
  const log = deps.log.child({ campaignId: campaign.id, bundleId: id, slot: opts.slot.toISOString() });
  const now = opts.now ?? new Date();

  let record = await store.bundles.get(id);
  if (record?.value.status === "complete") return { status: "already-complete", bundle: record.value };
  await expireConsents(store, now);
  if (!record) {
    await markMissedDrops(store, campaign.id, opts.slot, now);
    const reserved = await retryOnConflict(() => reserve(deps, campaign.id, opts.slot, opts.actor, now));
    if (!reserved) {
      log.info("nothing to drop");
      return { status: "empty", bundleId: id };
    }
    record = reserved;
    await deps.afterStep?.("reserved");
  }
  const bundle = record.value;

  const dirAbs = path.join(deps.exportDir, bundle.dir);
  if (!(await exists(path.join(dirAbs, "manifest.json")))) {
    // Withdrawn since reservation: never written. A redaction term added since approval: failed, not written.
    const included = await passRedactionGate(store, bundle.outputIds, opts.actor);
    await writeBundleFolder(deps, bundle, campaign, included);
    log.info({ outputs: included.length, takedowns: bundle.takedowns.length }, "bundle written");
  } else {
    log.info("bundle folder found from an earlier run: reusing it");
  }
  const written = JSON.parse(await readFile(path.join(dirAbs, "manifest.json"), "utf8")) as {
    outputs: { id: string }[];
    zip: { sha256: string; bytes: number };
  };
  const complete = await markExported(
    store,
    bundle,
    new Set(written.outputs.map((o) => o.id)),
    written.zip,
    opts.actor,
  );
  return { status: "written", bundle: complete };
}

/** Optimistic writes lose to a concurrent review, withdrawal or drop now and then: recompute and try again. */
async function retryOnConflict<T>(step: () => Promise<T>, tries = 10): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await step();
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== "conflict" || i >= tries) throw err;
    }
  }
}

async function passRedactionGate(store: Store, ids: string[], actor: string): Promise<Output[]> {
  const outputs = await store.outputs.getMany(ids);
  // One read of the speakers and of the term list per drop, not per output.
  const speakerIds = [...new Set(outputs.map((v) => v.value.speakerId))];
  const speakers = new Map((await store.speakers.getMany(speakerIds)).map((s) => [s.value.id, s.value]));
  const stored = await store.redactions.list();
  const termsBySpeaker = new Map<string, Awaited<ReturnType<typeof termsFor>>>();
  for (const s of speakers.values()) termsBySpeaker.set(s.id, await termsFor(store, s, stored));
  const passed: Output[] = [];
  for (const v of outputs) {
    if (v.value.status !== "approved") continue;
    const terms = termsBySpeaker.get(v.value.speakerId);
    const hit = terms ? findRedactionHit(publishedTexts(v.value), terms) : { termId: "speaker-missing" };
    if (!hit) {
      passed.push(v.value);
      continue;
    }
    const at = new Date().toISOString();
    const failure = {
      reason: "redaction" as const,
      message: `matches redaction term ${hit.termId} at export`,
      at,
      attempts: v.value.attempts,
      term: hit.termId,
    };
    await store.outputs.commit({
      writes: [store.outputs.write(move(v.value, "failed", at, { failure }), v)],
      audit: [
        {
          actor,
          action: "output.failed",
          entity: v.value.id,
          from: "approved",
          to: "failed",
          at,
          detail: "redaction",
        },
      ],
    });
  }
  return passed;
}

async function reserve(deps: ExportDeps, campaignId: string, slot: Date, actor: string, now: Date) {
  const { store } = deps;
  const already = await store.bundles.get(bundleId(campaignId, slot));
  if (already) return already; // another process reserved this slot first
  const campaign = (await store.campaigns.get(campaignId))!.value;
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
  const { selected } = selectForDrop(
    approved.map((v) => ({ ...v, speakerId: v.value.speakerId })),
    {
      perDrop: campaign.exposure.maxPerSpeakerPerDrop,
      per7Days: campaign.exposure.maxPerSpeakerPer7Days,
      exportedLast7Days: (s) => recent.get(s) ?? 0,
    },
  );
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
    return undefined;
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
  };
  await store.bundles.commit({
    writes: [
      store.bundles.write(bundle),
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
  });
  return { value: bundle, rev: 1 };
}

async function writeBundleFolder(deps: ExportDeps, bundle: Bundle, campaign: Campaign, included: Output[]) {
  const quotes = new Map(
    (await deps.store.quotes.getMany([...new Set(included.map((o) => o.quoteId))])).map((q) => [
      q.value.id,
      q.value,
    ]),
  );
  const manifest = buildManifest({
    bundleId: bundle.id,
    campaign,
    slot: bundle.slot,
    outputs: included.map((o) => ({ output: o, quote: quotes.get(o.quoteId)! })),
    takedowns: bundle.takedowns,
  });
  const files = included.flatMap((o) => [
    { name: cardEntryName(o), rel: o.files!.card, sha256: o.sha256![o.files!.card]!, compress: false },
    ...Object.entries(o.files!.text).map(([variant, rel]) => ({
      name: textEntryName(o, variant as never),
      rel,
      sha256: o.sha256![rel]!,
      compress: true,
    })),
  ]);
  // Sizes in parallel: thousands of sequential stats cost a second on a big drop.
  const entries: ZipEntry[] = await Promise.all(
    files.map(async (f) => {
      const file = path.join(deps.dataDir, f.rel);
      return { name: f.name, file, size: (await stat(file)).size, sha256: f.sha256, compress: f.compress };
    }),
  );
  const manifestJson = `${JSON.stringify(manifest, null, 2)}\n`;
  entries.push({ name: "manifest.json", bytes: Buffer.from(manifestJson), compress: true });

  const finalDir = path.join(deps.exportDir, bundle.dir);
  await mkdir(path.dirname(finalDir), { recursive: true });
  await removeStaleTemporaries(finalDir);
  const tmpDir = `${path.join(path.dirname(finalDir), `.${path.basename(finalDir)}`)}.${randomBytes(4).toString("hex")}.tmp`;
  await mkdir(tmpDir);
  try {
    const zip = await writeZip(path.join(tmpDir, "bundle.zip"), entries);
    const sidecar = {
      ...manifest,
      generatedAt: new Date().toISOString(),
      zip: { file: "bundle.zip", ...zip },
    };
    await writeFile(path.join(tmpDir, "manifest.json"), `${JSON.stringify(sidecar, null, 2)}\n`);
    await deps.afterStep?.("written");
    await rename(tmpDir, finalDir);
    await deps.afterStep?.("renamed");
  } catch (err) {
    await rm(tmpDir, { recursive: true, force: true });
    throw err;
  }
}

/** Step 3, retried on conflicts: what the folder holds becomes exported; what was withdrawn meanwhile becomes a takedown. */
async function markExported(
  store: Store,
  bundle: Bundle,
  inFolder: Set<string>,
  zip: { sha256: string; bytes: number },
  actor: string,
) {
  for (let attempt = 0; attempt < 10; attempt++) {
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
    try {
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
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== "conflict") throw err;
    }
  }
  throw new AppError("conflict", `bundle ${bundle.id}: could not mark its outputs exported after 10 tries`);
}

/** Outputs still in review when their campaign's drop fires are marked so reviewers see what they missed. */
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

/** Leftovers of a run that crashed mid-write: hidden, never renamed into place, safe to delete. */
async function removeStaleTemporaries(finalDir: string) {
  const prefix = `.${path.basename(finalDir)}.`;
  for (const name of await readdir(path.dirname(finalDir))) {
    if (name.startsWith(prefix) && name.endsWith(".tmp")) {
      await rm(path.join(path.dirname(finalDir), name), { recursive: true, force: true });
    }
  }
}

async function exists(file: string) {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
