export type Bundle = {
  id: string;
  campaignId: string;
  /** The scheduled instant this bundle stands for (ISO, UTC). */
  slot: string;
  /** `writing` reserves its outputs; only after the files are renamed into place does it become `complete`. */
  status: "writing" | "complete";
  outputIds: string[];
  takedowns: string[];
  /** Relative to EXPORT_DIR. */
  dir: string;
  zipSha256?: string;
  bytes?: number;
  createdAt: string;
  createdBy: string;
  completedAt?: string;
};

export const bundleId = (campaignId: string, slot: Date) =>
  `b-${campaignId}-${Math.floor(slot.getTime() / 1000)}`;

/** `2026-11-23T09-00-00Z`: an ISO instant that is a valid folder name everywhere. */
export const slotFolder = (slot: Date) =>
  slot
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z")
    .replace(/:/g, "-");
