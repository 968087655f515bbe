import { Readable } from "node:stream";
import type { Client } from "minio";
import { BlobNotFound, type BlobStore, checkKey } from "./blob-store.js";

export type S3Settings = {
  bucket: string;
  /** Key prefix inside the bucket, "" or ending in "/". */
  prefix: string;
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
};

/** Parts of a multipart upload: memory per upload stays at one part whatever the bundle's size. */
const PART_SIZE = 8 * 1024 * 1024;
/** Every request without a body to stream has this deadline. */
const DEADLINE_MS = 30_000;

export class S3Error extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = "S3Error";
  }
}

/**
 * A minio client, path-style so any S3-compatible server works (no bucket DNS names). minio is imported
 * on first use: roles on disk storage, and every one-shot command, never load it.
 */
export async function s3Client(s: Omit<S3Settings, "bucket" | "prefix">): Promise<Client> {
  const url = new URL(s.endpoint);
  const { Client } = await import("minio");
  return new Client({
    endPoint: url.hostname,
    port: url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80,
    useSSL: url.protocol === "https:",
    accessKey: s.accessKeyId,
    secretKey: s.secretAccessKey,
    region: s.region,
    pathStyle: true,
    partSize: PART_SIZE,
  });
}

const notFoundCodes = new Set(["NoSuchKey", "NotFound", "NoSuchObject"]);

/** What went wrong, said once, with the key and the server's code but never a credential. */
function explain(op: string, where: string, err: unknown): Error {
  const e = err as { code?: string; message?: string };
  if (e.code === "SignatureDoesNotMatch" || e.code === "InvalidAccessKeyId" || e.code === "AccessDenied") {
    return new S3Error(
      `S3 ${op} ${where} refused (${e.code}): check S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY`,
      e.code,
    );
  }
  if (e.code === "NoSuchBucket") return new S3Error(`S3 ${op} ${where}: the bucket does not exist`, e.code);
  return new S3Error(`S3 ${op} ${where} failed: ${e.code ?? ""} ${e.message ?? String(err)}`.trim(), e.code);
}

async function withDeadline<T>(op: string, where: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new S3Error(`S3 ${op} ${where}: no answer within ${DEADLINE_MS / 1000} s`)),
      DEADLINE_MS,
    );
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export function s3BlobStore(s: S3Settings): BlobStore {
  let made: Promise<Client> | undefined;
  const client = () => {
    made ??= s3Client(s);
    return made;
  };
  const name = (key: string) => `${s.prefix}${checkKey(key)}`;
  const where = (key: string) => `s3://${s.bucket}/${name(key)}`;
  const call = async <T>(op: string, key: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await withDeadline(op, where(key), work());
    } catch (err) {
      if (err instanceof S3Error) throw err;
      if (notFoundCodes.has((err as { code?: string }).code ?? "")) throw new BlobNotFound(key);
      throw explain(op, where(key), err);
    }
  };
  return {
    kind: "s3",
    where,
    localPath: () => undefined,
    async put(key, body, opts = {}) {
      const meta = { "Content-Type": opts.contentType ?? "application/octet-stream" };
      if (body instanceof Readable) {
        // With its length known, minio uploads a stream in PART_SIZE parts (memory: one part); without
        // it, minio would assume 5 TiB and buffer ~550 MiB parts, so a length is required. Streams are
        // not raced against a deadline as a whole (a big bundle takes long).
        if (opts.size === undefined) throw new Error(`S3 put ${where(key)}: a stream needs its size`);
        try {
          await (await client()).putObject(s.bucket, name(key), body, opts.size, meta);
        } catch (err) {
          throw explain("put", where(key), err);
        }
        return;
      }
      const bytes =
        typeof body === "string"
          ? Buffer.from(body)
          : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      await call("put", key, async () =>
        (await client()).putObject(s.bucket, name(key), bytes, bytes.length, meta),
      );
    },
    async get(key) {
      const stream = await call("get", key, async () => (await client()).getObject(s.bucket, name(key)));
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    },
    async stream(key) {
      return call("get", key, async () => (await client()).getObject(s.bucket, name(key)));
    },
    async size(key) {
      try {
        return (await call("stat", key, async () => (await client()).statObject(s.bucket, name(key)))).size;
      } catch (err) {
        if (err instanceof BlobNotFound) return undefined;
        throw err;
      }
    },
    async exists(key) {
      return (await this.size(key)) !== undefined;
    },
    async delete(key) {
      await call("delete", key, async () => (await client()).removeObject(s.bucket, name(key)));
    },
  };
}

/** Creates the bucket when missing (tests, a fresh local server); production buckets exist already. */
export async function ensureBucket(s: S3Settings, given?: Client): Promise<void> {
  const client = given ?? (await s3Client(s));
  const where = `s3://${s.bucket}`;
  try {
    if (!(await withDeadline("bucketExists", where, client.bucketExists(s.bucket)))) {
      await withDeadline("makeBucket", where, client.makeBucket(s.bucket, s.region));
    }
  } catch (err) {
    if (err instanceof S3Error) throw err;
    throw explain("bucket check", where, err);
  }
}
