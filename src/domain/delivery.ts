import { z } from "zod";
import { idSchema } from "./ids.js";

/**
 * Where a campaign's drops go besides its bundle folder (issue 15). `folder`: the bundle stays where the
 * export writes it (EXPORT_DIR, or STORAGE_URL's bucket); the default, and always true. `s3`: the zip and
 * both manifests are put into the campaign's own bucket, with credentials named by environment variable
 * (never stored). `webhook`: signed events (Standard Webhooks) to an http(s) URL; its secret lives in
 * Redis apart from the campaign and is shown once.
 */
export const DELIVERY_TYPES = ["folder", "s3", "webhook"] as const;
export type DeliveryType = (typeof DELIVERY_TYPES)[number];

export const WEBHOOK_EVENTS = ["bundle.dropped", "takedowns.pending", "output.failed"] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** Default and longest life of the download link a bundle.dropped event carries. */
export const WEBHOOK_LINK_TTL_S = 24 * 3600;
export const WEBHOOK_LINK_MAX_TTL_S = 7 * 24 * 3600;

/**
 * Only variables named DELIVERY_…: a target names where its credentials are, and must not be able to
 * name another of the worker's variables (REDIS_URL, S3_SECRET_ACCESS_KEY) and send it to its endpoint.
 */
export const DELIVERY_ENV_PREFIX = "DELIVERY_";
const envName = z
  .string()
  .regex(
    /^DELIVERY_[A-Z0-9_]{1,100}$/,
    "must be the NAME of an environment variable starting with DELIVERY_ (A-Z, 0-9, _), never the credential itself",
  );

const folderTarget = z.strictObject({ type: z.literal("folder"), id: idSchema.optional() });

const s3Target = z.strictObject({
  type: z.literal("s3"),
  id: idSchema.optional(),
  bucket: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be an S3 bucket name (3-63 of a-z, 0-9, '.', '-')"),
  /** Key prefix in the bucket; "" or ending in "/" once parsed. */
  prefix: z
    .string()
    .max(200)
    .regex(/^[A-Za-z0-9!_.*'()/-]*$/, "must be a key prefix of letters, digits and - _ . / ! * ' ( )")
    .refine((p) => !p.split("/").some((s) => s === ".." || s === "."), "must not hold '.' or '..' parts")
    .default("")
    .transform((p) => {
      const t = p.replace(/^\/+|\/+$/g, "");
      return t ? `${t}/` : "";
    }),
  /** An S3-compatible endpoint; absent: AWS in `region`. */
  endpoint: z
    .string()
    .refine(
      (v) => /^https?:\/\/[^/?#]+\/?$/.test(v) && URL.canParse(v),
      "must be a URL like https://host:port",
    )
    .optional(),
  region: z
    .string()
    .regex(/^[a-z0-9-]{1,40}$/, "must be a region name like us-east-1")
    .optional(),
  accessKeyIdEnv: envName,
  secretAccessKeyEnv: envName,
});

const webhookTarget = z.strictObject({
  type: z.literal("webhook"),
  id: idSchema.optional(),
  url: z
    .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
    .max(2000)
    .refine((u) => !new URL(u).username && !new URL(u).password, "must not hold a user name or password"),
  events: z
    .array(z.enum(WEBHOOK_EVENTS, { error: () => `must be one of ${WEBHOOK_EVENTS.join(", ")}` }))
    .min(1, "at least one event")
    .default([...WEBHOOK_EVENTS]),
  /** How long the download link in bundle.dropped works. */
  linkTtlSeconds: z.number().int().min(5).max(WEBHOOK_LINK_MAX_TTL_S).default(WEBHOOK_LINK_TTL_S),
});

const targetSchema = z.discriminatedUnion("type", [folderTarget, s3Target, webhookTarget], {
  error: () => `type must be one of ${DELIVERY_TYPES.join(", ")}`,
});

/** Targets get ids (given, or their type, then type-2, type-3 ...): delivery jobs and secrets hang on them. */
export const deliverySchema = z
  .array(targetSchema)
  .max(10, "at most 10 delivery targets")
  .default([{ type: "folder" }])
  .transform((targets) => {
    const seen = new Map<string, number>();
    return targets.map((t) => {
      if (t.id) return { ...t, id: t.id };
      const n = (seen.get(t.type) ?? 0) + 1;
      seen.set(t.type, n);
      return { ...t, id: n === 1 ? t.type : `${t.type}-${n}` };
    });
  })
  .superRefine((targets, ctx) => {
    const ids = targets.map((t) => t.id);
    ids.forEach((id, i) => {
      if (ids.indexOf(id) !== i)
        ctx.addIssue({ code: "custom", path: [i, "id"], message: `target id ${id} is used twice` });
    });
  });

export type DeliveryTarget = z.output<typeof deliverySchema>[number];
export type S3Target = Extract<DeliveryTarget, { type: "s3" }>;
export type WebhookTarget = Extract<DeliveryTarget, { type: "webhook" }>;

/** A campaign stored before delivery targets existed delivers to its folder only. */
export const deliveryTargets = (c: { delivery?: DeliveryTarget[] }): DeliveryTarget[] =>
  c.delivery ?? [{ type: "folder", id: "folder" }];

/** Targets that get a delivery job for this event (a folder is delivered by the export itself). */
export function targetsFor(c: { delivery?: DeliveryTarget[] }, event: WebhookEventType): DeliveryTarget[] {
  return deliveryTargets(c).filter((t) =>
    t.type === "webhook" ? t.events.includes(event) : t.type === "s3" && event === "bundle.dropped",
  );
}

/** One try of one delivery, as recorded (never a secret: errors are written without credentials). */
export type DeliveryAttempt = {
  target: string;
  type: "s3" | "webhook";
  event: WebhookEventType;
  attempt: number;
  /** delivered; retrying (another attempt follows); failed (the last attempt, or a permanent error). */
  status: "delivered" | "retrying" | "failed";
  httpStatus?: number;
  error?: string;
  at: string;
};

export type TargetDelivery = {
  target: string;
  type: "s3" | "webhook";
  status: "pending" | "delivered" | "retrying" | "failed";
  attempts: DeliveryAttempt[];
};

/** A bundle's delivery: failed if any target failed for good, pending while any is under way. */
export function summariseDelivery(
  targets: DeliveryTarget[],
  attempts: DeliveryAttempt[],
): { status: "none" | "pending" | "delivered" | "failed"; targets: TargetDelivery[] } {
  const per: TargetDelivery[] = targets
    .filter(
      (t): t is S3Target | WebhookTarget =>
        t.type === "s3" || (t.type === "webhook" && t.events.includes("bundle.dropped")),
    )
    .map((t) => {
      const mine = attempts.filter((a) => a.target === t.id && a.event === "bundle.dropped");
      const last = mine[mine.length - 1];
      return { target: t.id, type: t.type, status: last?.status ?? "pending", attempts: mine };
    });
  if (per.length === 0) return { status: "none", targets: [] };
  const status = per.some((t) => t.status === "failed")
    ? "failed"
    : per.every((t) => t.status === "delivered")
      ? "delivered"
      : "pending";
  return { status, targets: per };
}
