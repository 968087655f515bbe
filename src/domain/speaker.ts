import { z } from "zod";
import { idSchema } from "./ids.js";
import { localeSchema } from "./locale.js";

export const ATTRIBUTIONS = ["anonymous", "pseudonym", "named"] as const;
export type Attribution = (typeof ATTRIBUTIONS)[number];

const isoDateTime = z.iso.datetime({
  offset: true,
  error: "must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z",
});

export const consentSchema = z.object({
  state: z.enum(["granted", "withdrawn"]),
  recordedBy: z
    .string({ error: "who recorded the consent is required" })
    .trim()
    .min(1, "who recorded the consent is required"),
  recordedAt: isoDateTime,
  /** Where a `named` attribution may be published; empty lists mean nowhere. */
  scope: z
    .object({
      locales: z.array(localeSchema).default([]),
      channels: z.array(z.string().trim().min(1)).default([]),
    })
    .default({ locales: [], channels: [] }),
  expiresAt: isoDateTime.optional(),
  withdrawnBy: z.string().optional(),
  withdrawnAt: isoDateTime.optional(),
  /** Evidence (a signed form's reference, say): private like the rest of `private`. */
  evidence: z.string().max(2000).optional(),
});
export type Consent = z.infer<typeof consentSchema>;

export const speakerPrivateSchema = z
  .object({
    realName: z.string().max(200).optional(),
    contact: z.string().max(500).optional(),
    notes: z.string().max(5000).optional(),
  })
  .default({});

export const speakerSchema = z
  .object({
    id: idSchema,
    pseudonym: z.string().trim().min(1, "must not be empty").max(80, "at most 80 characters"),
    /** Publishable description as the source gives it, e.g. "a defector from India". */
    description: z.string().trim().max(200).optional(),
    attribution: z.enum(ATTRIBUTIONS, { error: () => `must be one of ${ATTRIBUTIONS.join(", ")}` }),
    /** The name published under `named` attribution, only while consent allows it. */
    publicName: z.string().trim().min(1).max(120).optional(),
    consent: consentSchema.optional(),
    private: speakerPrivateSchema,
    redactionTerms: z
      .array(z.string().trim().min(2, "a redaction term needs at least 2 characters"))
      .default([]),
  })
  .superRefine((s, ctx) => {
    if (s.attribution !== "named") return;
    if (!s.publicName) {
      ctx.addIssue({
        code: "custom",
        path: ["publicName"],
        message: "named attribution needs the name to publish",
      });
    }
    if (s.consent?.state !== "granted") {
      ctx.addIssue({
        code: "custom",
        path: ["consent"],
        message: "named attribution needs granted consent recorded with who, when and scope",
      });
    } else if (s.consent.scope.locales.length === 0 && s.consent.scope.channels.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["consent", "scope"],
        message: "named attribution needs a consent scope (locales or channels)",
      });
    }
  });

export type SpeakerInput = z.input<typeof speakerSchema>;
export type Speaker = z.infer<typeof speakerSchema>;
