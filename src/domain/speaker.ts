import { z } from "zod";
import { cleanText } from "./clean-text.js";
import { idSchema } from "./ids.js";
import { localeSchema } from "./locale.js";
import { redactionTermText } from "./redaction.js";

export const ATTRIBUTIONS = ["anonymous", "pseudonym", "named"] as const;
export type Attribution = (typeof ATTRIBUTIONS)[number];

const isoDateTime = z.iso.datetime({
  offset: true,
  error: "must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z",
});

export const consentSchema = z.object({
  state: z.enum(["granted", "withdrawn"]),
  recordedBy: cleanText("line", { error: "who recorded the consent is required" })
    .trim()
    .min(1, "who recorded the consent is required"),
  recordedAt: isoDateTime,
  /** Where a `named` attribution may be published; empty lists mean nowhere. */
  scope: z
    .object({
      locales: z.array(localeSchema).default([]),
      channels: z.array(cleanText("line").trim().min(1)).default([]),
    })
    .default({ locales: [], channels: [] }),
  expiresAt: isoDateTime.optional(),
  withdrawnBy: z.string().optional(),
  withdrawnAt: isoDateTime.optional(),
  /** Evidence (a signed form's reference, say): private like the rest of `private`. */
  evidence: cleanText("multiline").max(2000).optional(),
});
export type Consent = z.infer<typeof consentSchema>;

export const speakerPrivateSchema = z
  .object({
    realName: cleanText("line").max(200).optional(),
    contact: cleanText("multiline").max(500).optional(),
    notes: cleanText("multiline").max(5000).optional(),
  })
  .default({});

export const speakerSchema = z
  .object({
    id: idSchema,
    pseudonym: cleanText("line").trim().min(1, "must not be empty").max(80, "at most 80 characters"),
    /** Publishable description as the source gives it, e.g. "a defector from India". */
    description: cleanText("line").trim().max(200).optional(),
    attribution: z.enum(ATTRIBUTIONS, { error: () => `must be one of ${ATTRIBUTIONS.join(", ")}` }),
    /** The name published under `named` attribution, only while consent allows it. */
    publicName: cleanText("line").trim().min(1).max(120).optional(),
    consent: consentSchema.optional(),
    private: speakerPrivateSchema,
    redactionTerms: z.array(redactionTermText).default([]),
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
