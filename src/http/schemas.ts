import { z } from "zod";
import { TEXT_VARIANTS } from "../domain/campaign.js";
import { ID_PATTERN } from "../domain/ids.js";
import { OUTPUT_STATES, type Output } from "../domain/output.js";
import { ROLES } from "../domain/user.js";

/** Response shapes. Zod objects drop undeclared keys, so these are allow-lists of what may leave. */

export const idParam = z.object({ id: z.string().regex(ID_PATTERN, "not a valid id") });

export const errorSchema = z.object({
  error: z.string(),
  message: z.string(),
  details: z.array(
    z.object({ where: z.string().optional(), field: z.string().optional(), message: z.string() }),
  ),
});

const decisionSchema = z.object({
  decision: z.enum(["approved", "rejected"]),
  by: z.string(),
  at: z.string(),
  comment: z.string().optional(),
});

export const outputView = z.object({
  id: z.string(),
  campaignId: z.string(),
  quoteId: z.string(),
  speakerId: z.string(),
  locale: z.string(),
  direction: z.enum(["ltr", "rtl"]),
  narrative: z.string(),
  format: z.string(),
  encoding: z.string(),
  templateVersion: z.string(),
  brandVersion: z.string(),
  status: z.enum(OUTPUT_STATES),
  queuedBy: z.string(),
  queuedAt: z.string(),
  updatedAt: z.string(),
  attempts: z.number(),
  failure: z
    .object({
      reason: z.string(),
      message: z.string(),
      at: z.string(),
      attempts: z.number(),
      term: z.string().optional(),
    })
    .optional(),
  variants: z.partialRecord(z.enum(TEXT_VARIANTS), z.string()).optional(),
  /** What the card shows: the only speaker-derived fields an output carries. */
  published: z.object({ attribution: z.string(), citation: z.string(), quoteText: z.string() }).optional(),
  sha256: z.record(z.string(), z.string()).optional(),
  fontSize: z.number().optional(),
  decisions: z.array(decisionSchema),
  missedDrops: z.array(z.string()),
  bundleId: z.string().optional(),
  exportedAt: z.string().optional(),
  withdrawnAt: z.string().optional(),
  links: z.object({ self: z.string(), card: z.string().optional(), text: z.record(z.string(), z.string()) }),
});

/** Server file paths stay inside; the API links to the card and text routes instead. */
export function toOutputView(o: Output): z.input<typeof outputView> {
  const { files, ...rest } = o;
  const self = `/api/outputs/${o.id}`;
  return {
    ...rest,
    links: {
      self,
      card: files?.card ? `${self}/card` : undefined,
      text: Object.fromEntries(Object.keys(o.variants ?? {}).map((v) => [v, `${self}/text/${v}`])),
    },
  };
}

export const publicSpeaker = z.object({
  id: z.string(),
  locale: z.string().optional(),
  pseudonym: z.string(),
  description: z.string().optional(),
  // Attribution per locale: as public as the fields above.
  localized: z
    .record(
      z.string(),
      z.object({
        pseudonym: z.string().optional(),
        description: z.string().optional(),
        publicName: z.string().optional(),
      }),
    )
    .optional(),
  attribution: z.enum(["anonymous", "pseudonym", "named"]),
  publicName: z.string().optional(),
  // Consent as far as publishing goes; its evidence, like `private` and redaction terms, is admin-only.
  consent: z
    .object({
      state: z.enum(["granted", "withdrawn"]),
      recordedAt: z.string(),
      expiresAt: z.string().optional(),
      withdrawnAt: z.string().optional(),
      scope: z.object({ locales: z.array(z.string()), channels: z.array(z.string()) }),
    })
    .optional(),
});

export const quoteView = z.object({
  id: z.string(),
  speakerId: z.string(),
  text: z.string(),
  locale: z.string(),
  narrative: z.string(),
  source: z.object({
    title: z.string(),
    publisher: z.string(),
    url: z.string().optional(),
    publishedAt: z.string(),
  }),
  translationOf: z.string().optional(),
  vetting: z.object({
    state: z.enum(["pending", "vetted", "rejected", "retired"]),
    by: z.string().optional(),
    at: z.string().optional(),
    note: z.string().optional(),
  }),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const userView = z.object({
  id: z.string(),
  roles: z.array(z.enum(ROLES)),
  createdAt: z.string(),
  createdBy: z.string(),
  revokedAt: z.string().optional(),
});

export const auditView = z.object({
  seq: z.string(),
  actor: z.string(),
  action: z.string(),
  entity: z.string(),
  from: z.string().optional(),
  to: z.string().optional(),
  at: z.string(),
  detail: z.string().optional(),
});

export const importSummary = z.object({
  file: z.string(),
  created: z.number(),
  updated: z.number(),
  unchanged: z.number(),
});
