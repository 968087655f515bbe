import type { Encoding, Format, TextVariant } from "./campaign.js";
import { AppError } from "./errors.js";
import { stableId } from "./ids.js";
import type { Direction } from "./locale.js";
import type { Narrative } from "./narrative.js";

import { OUTPUT_STATES } from "./vocabulary.js";

export { OUTPUT_STATES };
export type OutputState = (typeof OUTPUT_STATES)[number];

/** Why an output could not be made (every one has its words in the pages' catalogues, `failure.<reason>`). */
export const FAILURE_REASONS = [
  "quote_not_vetted",
  "consent",
  "attribution",
  /** The speaker has no attribution in the output's locale and the campaign allows no fallback. */
  "attribution_locale",
  /** A character of the quote or attribution is in no shipped font (the message names its code point). */
  "missing_glyph",
  "template",
  "variant_too_long",
  "cannot_fit",
  "redaction",
  "bad_brand",
  "error",
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export type Decision = { decision: "approved" | "rejected"; by: string; at: string; comment?: string };

export type Output = {
  id: string;
  campaignId: string;
  quoteId: string;
  speakerId: string;
  locale: string;
  direction: Direction;
  narrative: Narrative;
  format: Format;
  encoding: Encoding;
  templateVersion: string;
  brandVersion: string;
  status: OutputState;
  queuedBy: string;
  queuedAt: string;
  updatedAt: string;
  attempts: number;
  failure?: { reason: FailureReason; message: string; at: string; attempts: number; term?: string };
  /**
   * Storage keys (paths relative to DATA_DIR). `text` names each text variant's key in `sha256`;
   * the texts themselves live in `variants`: outputs rendered before 2026-12-06 also have them as
   * files under those keys, later ones do not (export writes the zip's texts from `variants`).
   */
  files?: { card: string; text: Partial<Record<TextVariant, string>> };
  sha256?: Record<string, string>;
  /** The card file's size in bytes, recorded at render so export needs no stat (absent on older outputs). */
  cardBytes?: number;
  variants?: Partial<Record<TextVariant, string>>;
  /** What was rendered, as published: kept so review and export show exactly what the card says. */
  published?: { attribution: string; citation: string; quoteText: string };
  fontSize?: number;
  decisions: Decision[];
  missedDrops: string[];
  bundleId?: string;
  exportedAt?: string;
  withdrawnAt?: string;
};

/** Same campaign, words, locale, format, templates and brand → same id, so queueing again adds nothing. */
export function outputId(parts: {
  campaignId: string;
  quoteId: string;
  quoteText: string;
  locale: string;
  format: Format;
  templateVersion: string;
  brandVersion: string;
}): string {
  return stableId(
    "o",
    parts.campaignId,
    parts.quoteId,
    parts.quoteText,
    parts.locale,
    parts.format,
    parts.templateVersion,
    parts.brandVersion,
  );
}

const ALLOWED: Record<OutputState, OutputState[]> = {
  queued: ["rendering", "failed", "withdrawn"],
  // rendering → rendering: a stalled job picked up again after its worker died.
  rendering: ["rendering", "in_review", "failed", "queued", "withdrawn"],
  in_review: ["approved", "rejected", "withdrawn"],
  // approved → failed: a redaction term added after approval is caught at export.
  approved: ["exported", "withdrawn", "failed"],
  rejected: ["withdrawn"],
  failed: ["queued", "withdrawn"],
  exported: [],
  withdrawn: [],
};

/**
 * Failures worth retrying by themselves: an unexpected error (a full disk, Redis refusing writes, a crash)
 * may pass on its own, so the render job retries it with backoff before the output becomes `failed`.
 * Every other reason (cannot_fit, redaction, attribution, variant_too_long, ...) fails the same way
 * until something changes, so it is retried only by hand (`testimony retry`, the API).
 */
export const isTransientFailure = (reason: FailureReason) => reason === "error";

export function canMove(from: OutputState, to: OutputState): boolean {
  return ALLOWED[from].includes(to);
}

export function move(output: Output, to: OutputState, at: string, patch: Partial<Output> = {}): Output {
  if (!canMove(output.status, to)) {
    throw new AppError("invalid_state", `output ${output.id} is ${output.status}, it cannot become ${to}`);
  }
  return { ...output, ...patch, status: to, updatedAt: at };
}
