import { randomBytes } from "node:crypto";
import { ensureBucket, type S3Settings, s3Client } from "../../src/storage/s3.js";

/**
 * The local S3-compatible server scripts/ensure-s3.sh starts (npm test and CI run it first), or the one
 * S3_ENDPOINT and the S3_* credentials name.
 */
export const S3_ENV = {
  S3_ENDPOINT: process.env.S3_ENDPOINT ?? "http://127.0.0.1:9400",
  S3_REGION: process.env.S3_REGION ?? "us-east-1",
  S3_ACCESS_KEY_ID: process.env.S3_ACCESS_KEY_ID ?? "testimony:ci",
  S3_SECRET_ACCESS_KEY: process.env.S3_SECRET_ACCESS_KEY ?? "testimony-local-s3-secret",
};

/**
 * Whether the S3 server answers. `npm test` starts it with scripts/ensure-s3.sh (CI too), so this is false
 * only where that script could not run (no root to install Swift): S3 tests then skip and say so.
 */
export async function s3Reachable(): Promise<boolean> {
  try {
    const r = await fetch(`${S3_ENV.S3_ENDPOINT}/healthcheck`, { signal: AbortSignal.timeout(3000) });
    return r.ok;
  } catch {
    console.warn(
      `S3 tests skipped: nothing answers at ${S3_ENV.S3_ENDPOINT} (run bash scripts/ensure-s3.sh)`,
    );
    return false;
  }
}

/** A fresh bucket per test file (names are lower-case, 3 to 63 characters), removed with its objects by cleanup(). */
export async function testBucket(name: string): Promise<{
  settings: S3Settings;
  env: Record<string, string>;
  cleanup: () => Promise<void>;
}> {
  const bucket = `t-${name}-${randomBytes(4).toString("hex")}`.toLowerCase();
  const settings: S3Settings = {
    bucket,
    prefix: "p/",
    endpoint: S3_ENV.S3_ENDPOINT,
    region: S3_ENV.S3_REGION,
    accessKeyId: S3_ENV.S3_ACCESS_KEY_ID,
    secretAccessKey: S3_ENV.S3_SECRET_ACCESS_KEY,
  };
  const client = await s3Client(settings);
  await ensureBucket(settings, client);
  return {
    settings,
    env: { ...S3_ENV, STORAGE_URL: `s3://${bucket}/p` },
    async cleanup() {
      const names: string[] = [];
      for await (const o of client.listObjectsV2(bucket, "", true)) if (o.name) names.push(o.name);
      if (names.length) await client.removeObjects(bucket, names);
      await client.removeBucket(bucket);
    },
  };
}
