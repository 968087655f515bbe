export type Bundle = {
  id: string;
  campaignId: string;
  /** The scheduled instant this bundle stands for (ISO, UTC). */
  slot: string;
  /**
   * `writing` reserves its outputs; only after the files are renamed into place does it become `complete`.
   * `released`: a drop that failed or died before its folder was in place, rolled back by a later drop;
   * its outputs are free again and it lists none.
   */
  status: "writing" | "complete" | "released";
  outputIds: string[];
  takedowns: string[];
  /** Relative to EXPORT_DIR. */
  dir: string;
  zipSha256?: string;
  bytes?: number;
  createdAt: string;
  createdBy: string;
  completedAt?: string;
  /** Who holds (or last held) the reservation: `host/pid/nonce` of the exporting process. */
  owner?: string;
  releasedAt?: string;
  releasedReason?: string;
};

/**
 * What a drop does with an unfinished (`writing`) bundle of its campaign before anything else:
 * - its folder is in place (killed after the rename): `complete` it, its outputs are exported;
 * - its folder is not in place and nobody alive holds it: `release` it, its outputs become eligible again;
 * - its owner is alive and holds its lease: `leave` it alone (never steal a live exporter's bundle).
 * The drop's own slot is resumed from the step it reached (a rerun of a slot finishes it).
 */
export function unfinishedBundleAction(b: {
  folderInPlace: boolean;
  heldByLiveOwner: boolean;
  ownSlot: boolean;
}): "complete" | "release" | "resume" | "leave" {
  if (b.heldByLiveOwner) return "leave";
  if (b.ownSlot) return "resume";
  return b.folderInPlace ? "complete" : "release";
}

/** An exporter's identity: host, process id and a nonce, so a dead local owner can be recognised. */
export function parseOwner(owner: string): { host: string; pid: number } | undefined {
  const m = /^(.+)\/(\d+)\/[0-9a-f]+$/.exec(owner);
  return m ? { host: m[1]!, pid: Number(m[2]) } : undefined;
}

export const bundleId = (campaignId: string, slot: Date) =>
  `b-${campaignId}-${Math.floor(slot.getTime() / 1000)}`;

/** `2026-11-23T09-00-00Z`: an ISO instant that is a valid folder name everywhere. */
export const slotFolder = (slot: Date) =>
  slot
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z")
    .replace(/:/g, "-");
