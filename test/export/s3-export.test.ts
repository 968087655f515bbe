import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { exportSlot } from "../../src/app/export.service.js";
import { diskBlobStore } from "../../src/storage/disk.js";
import { s3BlobStore } from "../../src/storage/s3.js";
import { aCampaign, anOutput, aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { testStore } from "../support/redis.js";
import { s3Reachable, testBucket } from "../support/s3.js";

const log = pino({ level: "silent" });
const s3Up = await s3Reachable();
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

describe.runIf(s3Up)("export on S3 storage", () => {
  it("a drop that died after its folder was in place but before the upload is completed into the bucket by the next drop", async () => {
    const t = testStore("s3-export");
    closers.push(() => t.cleanup({ afterWorkers: false }));
    const dataDir = await mkdtemp(path.join(tmpdir(), "tm-s3x-"));
    closers.push(() => rm(dataDir, { recursive: true, force: true }));
    const bucket = await testBucket("s3-export");
    closers.push(() => bucket.cleanup());
    const files = s3BlobStore(bucket.settings);
    const bundles = s3BlobStore({ ...bucket.settings, prefix: `${bucket.settings.prefix}bundles/` });
    const quote = aQuote("q1", "s1");
    await saveAll(t.store, { campaigns: [aCampaign()], speakers: [aSpeaker("s1")], quotes: [quote] });
    const o = await anOutput(t.store, dataDir, quote);
    const disk = diskBlobStore(dataDir);
    for (const rel of [o.files!.card, ...Object.values(o.files!.text)]) {
      await files.put(rel, await disk.get(rel));
      await disk.delete(rel);
    }
    const deps = { store: t.store, dataDir, exportDir: path.join(dataDir, "exports"), files, bundles, log };
    const slot = new Date("2026-11-23T06:00:00Z");
    const died = exportSlot(
      {
        ...deps,
        afterStep: (step) => {
          if (step === "renamed") throw new Error("died after the rename");
        },
      },
      { campaignId: "why-they-left", slot, actor: "scheduler" },
    );
    await expect(died).rejects.toThrow("died after the rename");
    const b = (await t.store.bundles.list([])).find((x) => x.status === "writing")!;
    expect(b).toBeDefined();
    expect(await bundles.exists(`${b.dir}/bundle.zip`)).toBe(false);

    const next = await exportSlot(deps, {
      campaignId: "why-they-left",
      slot: new Date("2026-11-24T06:00:00Z"),
      actor: "scheduler",
    });
    expect(next.recovered).toMatchObject([{ bundleId: b.id, action: "completed", outputs: 1 }]);
    const done = (await t.store.bundles.get(b.id))!.value;
    expect(done.status).toBe("complete");
    const zip = await bundles.get(`${b.dir}/bundle.zip`);
    expect(createHash("sha256").update(zip).digest("hex")).toBe(done.zipSha256);
    expect(JSON.parse((await bundles.get(`${b.dir}/manifest.json`)).toString()).zip.sha256).toBe(
      done.zipSha256,
    );
  });
});
