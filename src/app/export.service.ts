import { readFile } from "node:fs/promises";
import path from "node:path";
import { type Bundle, bundleId } from "../domain/bundle.js";
import { notFound } from "../domain/errors.js";
import type { Logger } from "../logger.js";
import type { Store } from "../store/store.js";
import { exists, passRedactionGate, writeBundleFolder } from "./export/bundle-folder.js";
import { markExported } from "./export/mark-exported.js";
import { markMissedDrops, reserve } from "./export/reserve.js";
import { retryOnConflict } from "./retry.js";
import { expireConsents } from "./safety.service.js";

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
    const reserved = await retryOnConflict(() => reserve(store, campaign.id, opts.slot, opts.actor, now), {
      tries: 10,
    });
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
