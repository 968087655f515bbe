import { validateDetailed } from "node-cron";
import { z } from "zod";
import { cleanText } from "./clean-text.js";
import { deliverySchema } from "./delivery.js";
import { idSchema } from "./ids.js";
import { localeSchema } from "./locale.js";
import { NARRATIVES, narrativeSchema } from "./narrative.js";

import { FORMAT_NAMES, FORMATS, type Format } from "./vocabulary.js";

export { FORMAT_NAMES, FORMATS, type Format };

export const TEXT_VARIANTS = ["post", "caption", "alt_text"] as const;
export type TextVariant = (typeof TEXT_VARIANTS)[number];

export const ENCODINGS = ["png", "jpeg", "webp"] as const;
export type Encoding = (typeof ENCODINGS)[number];

const colour = z.string().regex(/^#[0-9a-fA-F]{6}$/, "must be a colour as #rrggbb");

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return tz.includes("/") || tz === "UTC";
  } catch {
    return false;
  }
}

export const scheduleSchema = z.object({
  cron: z.string().superRefine((expr, ctx) => {
    const result = validateDetailed(expr);
    if (!result.valid) {
      // node-cron calls an empty expression "illegal characters"; say what is actually wrong.
      const why =
        expr.trim() === ""
          ? 'it is empty (e.g. "0 9 * * 1" is 09:00 every Monday)'
          : result.errors?.map((e) => e.message).join("; ") || "not a cron expression";
      ctx.addIssue({ code: "custom", message: `invalid cron expression "${expr}": ${why}` });
    }
  }),
  timeZone: z.string().transform((tz, ctx) => {
    if (!isValidTimeZone(tz)) {
      ctx.addIssue({
        code: "custom",
        message: `"${tz}" is not an IANA time zone (e.g. Europe/London, Asia/Baghdad)`,
      });
      return z.NEVER;
    }
    // Intl accepts "asia/baghdad"; keep the canonical spelling.
    return new Intl.DateTimeFormat("en", { timeZone: tz }).resolvedOptions().timeZone;
  }),
});
export type Schedule = z.infer<typeof scheduleSchema>;

export const brandSchema = z.object({
  /** A solid colour, or a vertical gradient from the first colour to the second. */
  background: z.union([colour, z.object({ from: colour, to: colour })]),
  text: colour,
  accent: colour,
  /** Path to a PNG or SVG logo, relative to the campaign file or absolute; re-encoded when the campaign is created. */
  logo: cleanText("line").min(1).optional(),
  /** Bumped by whoever changes the kit, so outputs rendered with an older kit are distinguishable. */
  version: z.number().int().min(1).default(1),
});
export type Brand = z.infer<typeof brandSchema>;

const unique = <T>(items: T[]) => new Set(items).size === items.length;

export const campaignInputSchema = z.object({
  id: idSchema,
  name: cleanText("name").trim().min(1, "must not be empty").max(120),
  audience: z.object({
    region: cleanText("line").trim().min(1).max(120),
    description: cleanText("multiline").trim().max(1000).default(""),
  }),
  locales: z.array(localeSchema).min(1, "at least one locale").refine(unique, "locales must not repeat"),
  /**
   * Where a speaker has no attribution in a card's locale, use the one in this locale instead (say
   * `en`, for a Latin-script pseudonym on a French card). Absent: such a card fails with
   * `attribution_locale`. Never implied: a person's name in another language is a choice someone makes.
   */
  attributionFallbackLocale: localeSchema.optional(),
  narratives: z
    .array(narrativeSchema)
    .min(1, `at least one of ${NARRATIVES.join(", ")}`)
    .refine(unique, "narratives must not repeat"),
  formats: z
    .array(
      z.enum(FORMAT_NAMES as [Format, ...Format[]], {
        error: () => `must be one of ${FORMAT_NAMES.join(", ")}`,
      }),
    )
    .min(1, "at least one format")
    .refine(unique, "formats must not repeat"),
  textVariants: z
    .array(z.enum(TEXT_VARIANTS))
    .min(1)
    .default([...TEXT_VARIANTS]),
  brand: brandSchema,
  hashtags: z
    .array(z.string().regex(/^#[\p{L}\p{N}_]{1,60}$/u, "must be a hashtag like #WhyTheyLeft"))
    .max(30, "at most 30 hashtags")
    .default([]),
  links: z
    .array(z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }))
    .max(5)
    .default([]),
  schedule: scheduleSchema,
  exposure: z
    .object({
      maxPerSpeakerPerDrop: z.number().int().min(1).max(1000).default(3),
      maxPerSpeakerPer7Days: z.number().int().min(1).max(10000).optional(),
    })
    .default({ maxPerSpeakerPerDrop: 3 }),
  encoding: z.enum(ENCODINGS).default("png"),
  paused: z.boolean().default(false),
  /** Where drops go (src/domain/delivery.ts): folder (default), s3, webhook; no credential or secret here. */
  delivery: deliverySchema,
});
export type CampaignInput = z.input<typeof campaignInputSchema>;

export const campaignSchema = campaignInputSchema.extend({
  createdAt: z.string(),
  createdBy: z.string(),
  updatedAt: z.string(),
});
export type Campaign = z.infer<typeof campaignSchema>;
