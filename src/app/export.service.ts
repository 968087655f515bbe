import path from "node:path";
import { type Bundle, bundleId } from "../domain/bundle.js";
import { AppError, notFound } from "../domain/errors.js";
import type { Logger } from "../logger.js";
import type { BlobStore } from "../storage/index.js";
import { createExportLeaseStore } from "../store/export-lease.store.js";
import type { Store } from "../store/store.js";
import { type DeliverQueue, enqueueBundleDeliveries } from "./deliver.service.js";
import { exists, type FailedAtExport, writeBundleFolder } from "./export/bundle-folder.js";
import { type HeldLease, holdLease, newOwner, takeLease } from "./export/lease.js";
import { readWrittenManifest } from "./export/manifest-file.js";
import { markExported } from "./export/mark-exported.js";
import { type BatchStep, EXPORT_BATCH, type Paging } from "./export/pages.js";
import { publishBundle } from "./export/publish.js";
import { type Recovered, recoverUnfinished, releaseBundle } from "./export/recover.js";
import { finishReservation, markMissedDrops, reserve } from "./export/reserve.js";
import { retryOnConflict } from "./retry.js";
import { expireConsents } from "./safety.service.js";

/** The crash-safe steps, and the points between two batches of one (`BatchStep`). */
export type ExportStep = "reserved" | "written" | "renamed" | BatchStep;
export type ExportDeps = {
  store: Store;
  dataDir: string;
  exportDir: string;
  log: Logger;
  /** Called after each crash-safe step; the crash drills kill the process here. */
  afterStep?: (step: ExportStep) => Promise<void> | void;
  /** Outputs per read and per commit while reserving, writing, marking and releasing (default 256). */
  batch?: number;
  /** How long a reservation outlives its exporter without renewal (default 30 s; renewed every third). */
  leaseMs?: number;
  /** Where cards and texts are read from (createStorage); without it, files under dataDir. */
  files?: BlobStore;
  /** With S3 storage, where the bundle is delivered after its folder is written: "<dir>/bundle.zip", "<dir>/manifest.json". */
  bundles?: BlobStore;
  /** The deliver queue: a complete bundle gets one delivery job per target of its campaign. */
  deliver?: DeliverQueue;
};

/** What a drop reports besides its bundle: what it recovered, what the cap held back, what failed at export. */
export type ExportReport = {
  recovered: Recovered[];
  /** Approved outputs the exposure cap keeps for a later drop, per speaker. */
  heldBack: { speakerId: string; count: number }[];
  /** Approved outputs that failed the redaction check at export (now `failed`), and why. */
  failedAtExport: FailedAtExport[];
};
export type ExportResult =
  | ({ status: "empty"; bundleId: string } & ExportReport)
  | ({ status: "written" | "already-complete"; bundle: Bundle } & ExportReport);

const DEFAULT_LEASE_MS = 30_000;

/**
 * One drop of one campaign for one slot. First, every unfinished bundle of the campaign is completed
 * (its folder is in place) or released (its outputs become eligible again), unless a live exporter holds
 * it. Then, crash-safe in three steps: (1) reserve the chosen outputs: a `writing` bundle record that
 * lists them and names its owner, with a lease the owner renews while writing, then the outputs
 * themselves a batch at a time, (2) write zip + manifest into a temporary folder, a page of outputs at
 * a time, and rename it into place, (3) mark the outputs exported a batch at a time, then the bundle
 * complete. A rerun of the same slot resumes from whichever step it finds done (finishing a
 * reservation cut short between batches); an output is never in two bundles. Memory does not grow
 * with the drop: only output ids are held for the whole drop, records a batch (`deps.batch`) at a time.
 * A drop whose every output fails the check at export, with no takedown, writes nothing.
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
  const owner = newOwner();
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  const leases = createExportLeaseStore(store.redis, store.keys);
  const report: ExportReport = { recovered: [], heldBack: [], failedAtExport: [] };
  let held: HeldLease | undefined;
  const hold = () => {
    held ??= holdLease(leases, id, owner, leaseMs, log);
  };

  const paging = pagingOf(deps);
  const { recovered } = await recoverUnfinished({ ...deps, log }, campaign.id, opts.slot, {
    owner,
    leaseMs,
    actor: opts.actor,
    leases,
    paging,
  });
  report.recovered = recovered;

  for (const r of recovered)
    if (r.action === "completed") await enqueueDeliveries(deps, campaign.id, r.bundleId, log);
  let record = await store.bundles.get(id);
  if (record?.value.status === "complete") {
    // A rerun also covers a crash between marking and enqueueing (job ids keep it to one delivery).
    await enqueueDeliveries(deps, campaign.id, id, log);
    return { status: "already-complete", bundle: record.value, ...report };
  }
  await expireConsents(store, now);
  // Resuming a reservation an earlier run of this slot made (it may have died between two batches).
  let resumed = Boolean(record && record.value.status === "writing");
  if (!record || record.value.status === "released") {
    await markMissedDrops(store, campaign.id, opts.slot, now);
    // The lease is renewed from the moment the bundle record holds it: reserving a big drop's
    // outputs, a batch at a time, may take longer than the lease lives.
    const reserved = await retryOnConflict(
      () =>
        reserve(
          store,
          campaign.id,
          opts.slot,
          opts.actor,
          now,
          { id: owner, lease: leases.setOp(id, owner, leaseMs), onReserved: hold },
          paging,
        ),
      { tries: 10 },
    ).catch(async (err: unknown) => {
      await held?.stop();
      throw err;
    });
    report.heldBack = reserved.heldBack;
    if (!reserved.record) {
      log.info("nothing to drop");
      return { status: "empty", bundleId: id, ...report };
    }
    record = reserved.record;
    resumed = record.value.owner !== owner;
    if (resumed) {
      // Another drop of this slot reserved it a moment before us: resume it only if that drop is dead.
      const taken = await takeLease(leases, id, owner, leaseMs);
      if (taken !== "ok") {
        throw new AppError(
          "conflict",
          `bundle ${id} is being written by ${taken} right now; try again when it is done`,
        );
      }
    } else {
      await deps.afterStep?.("reserved");
    }
  }
  const bundle = record.value;
  hold();
  const lease = held!;
  try {
    const dirAbs = path.join(deps.exportDir, bundle.dir);
    let written: { ids: string[]; zip: { sha256: string; bytes: number } };
    if (!(await exists(path.join(dirAbs, "manifest.json")))) {
      if (resumed) await finishReservation(store, record, paging);
      // Withdrawn since reservation: never written. A redaction term added since approval: failed, not written.
      const folder = await writeBundleFolder(deps, bundle, campaign, {
        actor: opts.actor,
        batch: paging.batch,
        stillOwned: () => {
          if (lease.lost()) {
            throw new AppError(
              "conflict",
              `bundle ${id}: another drop took it over while this one wrote; not renamed`,
            );
          }
        },
      });
      report.failedAtExport = folder.failed;
      if (!folder.written) {
        await releaseBundle(
          store,
          id,
          opts.actor,
          "nothing to drop: every output failed the check at export",
          paging,
        );
        await store.audit.append({
          actor: opts.actor,
          action: "bundle.nothing_to_drop",
          entity: campaign.id,
          at: new Date().toISOString(),
          detail: `${opts.slot.toISOString()}: ${folder.failed.length} failed at export`,
        });
        log.warn(
          { failed: folder.failed.length },
          "nothing to drop: every output failed the check at export",
        );
        return { status: "empty", bundleId: id, ...report };
      }
      written = { ids: folder.outputIds, zip: folder.zip };
      log.info({ outputs: folder.outputIds.length, takedowns: bundle.takedowns.length }, "bundle written");
    } else {
      log.info("bundle folder found from an earlier run: reusing it");
      written = await readWrittenManifest(path.join(dirAbs, "manifest.json"));
    }
    if (deps.bundles) await publishBundle(deps.bundles, dirAbs, bundle.dir, log);
    const complete = await markExported(store, bundle, written.ids, written.zip, opts.actor, paging);
    await enqueueDeliveries(deps, campaign.id, complete.id, log);
    return { status: "written", bundle: complete, ...report };
  } finally {
    // A failed write frees the lease at once, so the next drop (any slot) can release the bundle.
    await lease.stop();
  }
}

/**
 * Delivery jobs for a complete bundle. Never fails the drop: the bundle is in place, and the delivery
 * relay raises the same jobs from the audit stream (src/app/deliver.service.ts).
 */
async function enqueueDeliveries(deps: ExportDeps, campaignId: string, bundleId: string, log: Logger) {
  if (!deps.deliver) return;
  try {
    const n = await enqueueBundleDeliveries(deps.store, deps.deliver, { id: bundleId, campaignId });
    if (n) log.info({ bundleId, targets: n }, "deliveries queued");
  } catch (err) {
    log.warn({ bundleId, err: (err as Error).message }, "deliveries not queued here; the relay queues them");
  }
}

/**
 * At start-up (export worker or scheduler): every campaign's unfinished bundles are completed or
 * released, as the next drop would, and stale hidden temp folders are removed.
 */
export async function recoverDrops(deps: ExportDeps, actor = "export-worker"): Promise<Recovered[]> {
  const leases = createExportLeaseStore(deps.store.redis, deps.store.keys);
  const owner = newOwner();
  const all: Recovered[] = [];
  for (const campaignId of await deps.store.campaigns.ids()) {
    const { recovered } = await recoverUnfinished(deps, campaignId, new Date(0), {
      owner,
      leaseMs: deps.leaseMs ?? DEFAULT_LEASE_MS,
      actor,
      leases,
      paging: pagingOf(deps),
    });
    all.push(...recovered);
  }
  return all;
}

function pagingOf(deps: ExportDeps): Paging {
  return { batch: deps.batch ?? EXPORT_BATCH, afterBatch: (step) => deps.afterStep?.(step) };
}
