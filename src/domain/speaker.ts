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

const pseudonymText = cleanText("line").trim().min(1, "must not be empty").max(80, "at most 80 characters");
const descriptionText = cleanText("line").trim().max(200);
const publicNameText = cleanText("line").trim().min(1).max(120);

/** How a speaker is attributed in one more locale: each field in that locale's language and script. */
export const localizedAttributionSchema = z
  .object({
    pseudonym: pseudonymText.optional(),
    description: descriptionText.optional(),
    publicName: publicNameText.optional(),
  })
  .strict();
export type LocalizedAttribution = z.infer<typeof localizedAttributionSchema>;

export const speakerSchema = z
  .object({
    id: idSchema,
    /** The locale of `pseudonym`, `description` and `publicName` below; absent means `en`. */
    locale: localeSchema.optional(),
    pseudonym: pseudonymText,
    /** Publishable description as the source gives it, e.g. "a defector from India". */
    description: descriptionText.optional(),
    /**
     * The same fields in other locales, keyed by BCP 47 tag (`ar`, `fr`, `ar-IQ`). A card in a locale
     * with no attribution here (nor in `locale`) fails with `attribution_locale`, unless its campaign
     * names an `attributionFallbackLocale`: a name is never swapped for another language's silently.
     */
    localized: z
      .record(z.string(), localizedAttributionSchema)
      .transform((map, ctx) => {
        const out: Record<string, LocalizedAttribution> = {};
        for (const [tag, entry] of Object.entries(map)) {
          const parsed = localeSchema.safeParse(tag);
          if (!parsed.success) {
            ctx.addIssue({ code: "custom", path: [tag], message: parsed.error.issues[0]!.message });
            continue;
          }
          out[parsed.data] = entry;
        }
        return out;
      })
      .optional(),
    attribution: z.enum(ATTRIBUTIONS, { error: () => `must be one of ${ATTRIBUTIONS.join(", ")}` }),
    /** The name published under `named` attribution, only while consent allows it. */
    publicName: publicNameText.optional(),
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
