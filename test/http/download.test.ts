import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readDownloadToken } from "../../src/app/download.service.js";
import { exportSlot } from "../../src/app/export.service.js";
import { addUser } from "../../src/app/users.service.js";
import type { Bundle } from "../../src/domain/bundle.js";
import { buildApp } from "../../src/http/app.js";
import { closeQueues, createQueues, type Queues } from "../../src/queues/queues.js";
import { loadTextTemplates } from "../../src/render/text/text.render.js";
import { diskBlobStore } from "../../src/storage/disk.js";
import type { BlobStore } from "../../src/storage/index.js";
import { s3BlobStore } from "../../src/storage/s3.js";
import { aCampaign, anOutput, aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { until } from "../support/poll.js";
import { testStore } from "../support/redis.js";
import { s3Reachable, testBucket } from "../support/s3.js";

const log = pino({ level: "silent" });
const s3Up = await s3Reachable();
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

type World = {
  app: FastifyInstance;
  bundle: Bundle;
  zip: Buffer;
  staff: { authorization: string };
  reviewer: { authorization: string };
  close(): Promise<void>;
};

/** Two dropped bundles (two slots), the app over them; on S3 the cards and bundles live in a bucket. */
async function world(name: string, storage: "disk" | "s3"): Promise<World & { other: Bundle }> {
  const t = testStore(name);
  const dataDir = await mkdtemp(path.join(tmpdir(), "tm-dl-"));
  const exportDir = path.join(dataDir, "exports");
  const bucket = storage === "s3" ? await testBucket(name) : undefined;
  let files: BlobStore | undefined;
  let bundles: BlobStore | undefined;
  const quotes = [aQuote("q1", "s1"), aQuote("q2", "s1")];
  await saveAll(t.store, { campaigns: [aCampaign()], speakers: [aSpeaker("s1")], quotes });
  if (bucket) {
    files = s3BlobStore(bucket.settings);
    bundles = s3BlobStore({ ...bucket.settings, prefix: `${bucket.settings.prefix}bundles/` });
  }
  const deps = { store: t.store, dataDir, exportDir, files, bundles, log };
  // One approved output per slot: two slots, two bundles.
  const slots = [new Date("2026-11-23T06:00:00Z"), new Date("2026-11-24T06:00:00Z")];
  const dropped: Bundle[] = [];
  for (const [i, slot] of slots.entries()) {
    const o = await anOutput(t.store, dataDir, quotes[i]!);
    if (files) {
      // The render worker's files, moved into the bucket: the exporter reads nothing from DATA_DIR.
      const disk = diskBlobStore(dataDir);
      for (const rel of [o.files!.card, ...Object.values(o.files!.text)]) {
        await files.put(rel, await disk.get(rel));
        await disk.delete(rel);
      }
    }
    const r = await exportSlot(deps, { campaignId: "why-they-left", slot, actor: "scheduler" });
    if (r.status !== "written") throw new Error(`drop ${slot.toISOString()}: ${r.status}`);
    dropped.push(r.bundle);
  }
  const [bundle, other] = dropped as [Bundle, Bundle];
  const zip = bundles
    ? await bundles.get(`${bundle.dir}/bundle.zip`)
    : await readFile(path.join(exportDir, bundle.dir, "bundle.zip"));
  const queues: Queues = createQueues(t.redis, t.store.keys);
  const app = buildApp({ ...deps, queues, templates: loadTextTemplates() });
  const auth = async (n: string, role: "staff" | "reviewer") => ({
    authorization: `Bearer ${(await addUser(t.store, n, [role], "test")).token}`,
  });
  return {
    app,
    bundle,
    other,
    zip,
    staff: await auth("staff1", "staff"),
    reviewer: await auth("rev1", "reviewer"),
    async close() {
      await app.close();
      await closeQueues(queues);
      await rm(dataDir, { recursive: true, force: true });
      await bucket?.cleanup();
      await t.cleanup({ afterWorkers: false });
    },
  };
}

describe.each([
  ["disk", true],
  ["s3", s3Up],
] as const)("bundle downloads from %s storage", (storage, enabled) => {
  let w: Awaited<ReturnType<typeof world>>;
  beforeAll(async () => {
    if (enabled) w = await world(`dl-${storage}`, storage);
  });
  afterAll(async () => {
    await w?.close();
  });

  it.runIf(enabled)(
    "staff and reviewers download the zip, streamed, byte for byte; no token, 401",
    async () => {
      expect(w.zip.length).toBeGreaterThan(500);
      expect(sha(w.zip)).toBe(w.bundle.zipSha256);
      for (const who of [w.staff, w.reviewer]) {
        const r = await w.app.inject({
          method: "GET",
          url: `/api/bundles/${w.bundle.id}/download`,
          headers: who,
        });
        expect(r.statusCode).toBe(200);
        expect(r.headers["content-type"]).toBe("application/zip");
        expect(r.headers["content-length"]).toBe(String(w.zip.length));
        expect(r.headers["content-disposition"]).toBe(`attachment; filename="${w.bundle.id}.zip"`);
        expect(r.rawPayload.equals(w.zip)).toBe(true);
      }
      const anon = await w.app.inject({ method: "GET", url: `/api/bundles/${w.bundle.id}/download` });
      expect(anon.statusCode).toBe(401);
      const missing = await w.app.inject({
        method: "GET",
        url: "/api/bundles/b-why-they-left-1/download",
        headers: w.staff,
      });
      expect(missing.statusCode).toBe(404);
    },
  );

  it.runIf(enabled)(
    "a signed link downloads that one bundle with no account, reveals nothing, and expires",
    async () => {
      const made = await w.app.inject({
        method: "POST",
        url: `/api/bundles/${w.bundle.id}/link`,
        headers: w.staff,
        payload: { ttlSeconds: 2 },
      });
      expect(made.statusCode).toBe(200);
      const { url, expiresAt } = made.json() as { url: string; expiresAt: string };
      const token = url.split("/d/")[1]!;
      expect(url).toBe(`/d/${token}`);
      // Nothing of the bundle, campaign or slot can be read from the token.
      const decoded = Buffer.from(token, "base64url").toString("latin1");
      for (const part of [w.bundle.id, "why-they-left", w.bundle.slot.slice(0, 10)]) {
        expect(token).not.toContain(part);
        expect(decoded).not.toContain(part);
      }
      const got = await w.app.inject({ method: "GET", url });
      expect(got.statusCode).toBe(200);
      expect(got.rawPayload.equals(w.zip)).toBe(true);

      // Reviewers may download but not hand out links.
      const refused = await w.app.inject({
        method: "POST",
        url: `/api/bundles/${w.bundle.id}/link`,
        headers: w.reviewer,
      });
      expect(refused.statusCode).toBe(403);

      // One changed character: refused, and a link made for the other bundle gives the other bundle only.
      const flipped = `${token.slice(0, 20)}${token[20] === "A" ? "B" : "A"}${token.slice(21)}`;
      const bad = await w.app.inject({ method: "GET", url: `/d/${flipped}` });
      expect(bad.statusCode).toBe(401);
      expect(bad.json().message).toBe("this download link is not valid");
      const otherLink = (
        await w.app.inject({ method: "POST", url: `/api/bundles/${w.other.id}/link`, headers: w.staff })
      ).json() as { url: string };
      const other = await w.app.inject({ method: "GET", url: otherLink.url });
      expect(other.statusCode).toBe(200);
      expect(other.headers["content-disposition"]).toContain(w.other.id);
      expect(other.rawPayload.equals(w.zip)).toBe(false);
      expect(sha(other.rawPayload)).toBe(w.other.zipSha256);

      // After its expiry the link is refused, saying so.
      await until("link expired", () => Date.now() > Date.parse(expiresAt) + 50, 5000);
      const late = await w.app.inject({ method: "GET", url });
      expect(late.statusCode).toBe(401);
      expect(late.json().message).toBe("this download link has expired; ask for a new one");
      expect(() => readDownloadToken(Buffer.alloc(32), token)).toThrow("not valid");
    },
  );
});
