import path from "node:path";
import { z } from "zod";
import type { S3Settings } from "./storage/s3.js";

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const configSchema = z
  .object({
    REDIS_URL: z
      .string()
      .default("redis://127.0.0.1:6379")
      .refine(
        (v) => /^rediss?:\/\/[^/?#]+/.test(v) && URL.canParse(v),
        "must be a URL like redis://host:6379",
      ),
    KEY_PREFIX: z
      .string()
      .default("testimony")
      .refine((v) => /^[A-Za-z0-9_.-]{1,64}$/.test(v), "only letters, digits, '_', '.', '-' (1 to 64)"),
    DATA_DIR: z.string().min(1).default("./data"),
    EXPORT_DIR: z.string().min(1).default("./exports"),
    PORT: z
      .string()
      .default("8080")
      .refine((v) => /^\d{1,5}$/.test(v) && Number(v) <= 65535, "must be a port number from 0 to 65535")
      .transform(Number),
    HOST: z.string().min(1).default("127.0.0.1"),
    LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
    PUBLIC_URL: z.string().url().optional(),
    METRICS_TOKEN: z
      .string()
      .refine(
        (v) => /^[\x21-\x7e]{24,200}$/.test(v),
        "must be 24 to 200 printable ASCII characters, no spaces",
      )
      .optional(),
    TESTIMONY_TOKEN: z
      .string()
      .refine(
        (v) => /^tm_[A-Za-z0-9_-]{12}\.[A-Za-z0-9_-]{32}$/.test(v.trim()),
        "must be an API token (tm_…)",
      )
      .optional(),
    ALLOW_VOLATILE_REDIS: z.enum(["0", "1", "true", "false"]).default("0"),
    CATCH_UP_HOURS: z.coerce
      .number()
      .min(0)
      .max(24 * 31)
      .default(48),
    STORAGE_URL: z
      .string()
      .refine(
        (v) => v === "disk" || /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[A-Za-z0-9_./-]*)?$/.test(v),
        "must be disk or s3://bucket/prefix",
      )
      .default("disk"),
    S3_ENDPOINT: z
      .string()
      .refine(
        (v) => /^https?:\/\/[^/?#]+\/?$/.test(v) && URL.canParse(v),
        "must be a URL like https://host:port",
      )
      .optional(),
    S3_REGION: z
      .string()
      .regex(/^[a-z0-9-]{1,40}$/, "must be a region name like us-east-1")
      .default("us-east-1"),
    S3_ACCESS_KEY_ID: z.string().min(1).max(200).optional(),
    S3_SECRET_ACCESS_KEY: z.string().min(1).max(200).optional(),
    DELIVER_BACKOFF_MS: z.coerce.number().int().min(50).max(3_600_000).default(10_000),
  })
  .superRefine((c, ctx) => {
    if (!c.STORAGE_URL.startsWith("s3://")) return;
    for (const k of ["S3_ENDPOINT", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"] as const) {
      if (!c[k]) ctx.addIssue({ code: "custom", path: [k], message: "required when STORAGE_URL is s3://" });
    }
  });

export type Config = {
  redisUrl: string;
  keyPrefix: string;
  dataDir: string;
  exportDir: string;
  port: number;
  host: string;
  logLevel: (typeof LOG_LEVELS)[number];
  publicUrl: string;
  catchUpHours: number;
  /** Bearer token /metrics asks for; unset, /metrics answers loopback clients only. */
  metricsToken?: string;
  /** Let the long-running roles run on a Redis without AOF (tests, a shared development Redis). */
  allowVolatileRedis: boolean;
  /** The CLI's identity: the API token of the account a command acts as. */
  token?: string;
  /** Where cards, texts and bundles live: this machine's DATA_DIR and EXPORT_DIR, or an S3 bucket. */
  storage: StorageConfig;
  /** The first delay between delivery attempts, doubled per attempt. */
  deliverBackoffMs: number;
  /**
   * The value of an environment variable a delivery target names (an S3 target's credentials), read
   * when the delivery runs: the campaign holds only the name.
   */
  namedSecret: (name: string) => string | undefined;
};

export type StorageConfig = { kind: "disk" } | ({ kind: "s3" } & S3Settings);

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** The only place that reads the environment: validated once, then passed down as plain values. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const blankAsMissing = Object.fromEntries(
    Object.keys(configSchema.shape).map((k) => [k, env[k] === "" ? undefined : env[k]]),
  );
  const parsed = configSchema.safeParse(blankAsMissing);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join("\n  ")}`);
  }
  const c = parsed.data;
  return {
    redisUrl: c.REDIS_URL,
    keyPrefix: c.KEY_PREFIX,
    dataDir: path.resolve(c.DATA_DIR),
    exportDir: path.resolve(c.EXPORT_DIR),
    port: c.PORT,
    host: c.HOST,
    logLevel: c.LOG_LEVEL,
    publicUrl: c.PUBLIC_URL ?? `http://${c.HOST}:${c.PORT}`,
    catchUpHours: c.CATCH_UP_HOURS,
    metricsToken: c.METRICS_TOKEN,
    token: c.TESTIMONY_TOKEN?.trim(),
    allowVolatileRedis: c.ALLOW_VOLATILE_REDIS === "1" || c.ALLOW_VOLATILE_REDIS === "true",
    storage: storageConfig(c),
    deliverBackoffMs: c.DELIVER_BACKOFF_MS,
    // Only DELIVERY_… variables: a campaign cannot have the worker send it any other one.
    namedSecret: (name) => (name.startsWith("DELIVERY_") && env[name] ? env[name] : undefined),
  };
}

function storageConfig(c: z.infer<typeof configSchema>): StorageConfig {
  if (!c.STORAGE_URL.startsWith("s3://")) return { kind: "disk" };
  const [bucket, ...rest] = c.STORAGE_URL.slice("s3://".length).split("/");
  const prefix = rest.filter(Boolean).join("/");
  return {
    kind: "s3",
    bucket: bucket!,
    prefix: prefix ? `${prefix}/` : "",
    endpoint: c.S3_ENDPOINT!.replace(/\/$/, ""),
    region: c.S3_REGION,
    accessKeyId: c.S3_ACCESS_KEY_ID!,
    secretAccessKey: c.S3_SECRET_ACCESS_KEY!,
  };
}
