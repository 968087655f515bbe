import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { afterEach, describe, expect, it } from "vitest";
import { changeVetting } from "../../src/app/quotes.service.js";
import { cardEntryName } from "../../src/export/manifest.js";
import { s3BlobStore } from "../../src/storage/s3.js";
import { s3Reachable, testBucket } from "../support/s3.js";
import { unzip } from "../support/zip.js";
import { bin, e2eWorld, RoleProcess } from "./bin.js";

const SAMPLE = path.resolve("assets/sample");
const s3Up = await s3Reachable();
const cleanups: (() => Promise<void>)[] = [];
const roles: RoleProcess[] = [];
afterEach(async () => {
  for (const r of roles.splice(0)) await r.stop().catch(() => {});
  for (const c of cleanups.splice(0).reverse()) await c();
});

const ok = (r: { code: number | null; err: string; out: string }) => {
  expect(r.err).toBe("");
  expect(r.code).toBe(0);
};

async function files(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((d) => d.isFile())
      .map((d) => path.join(d.parentPath, d.name));
  } catch {
    return [];
  }
}

// Two machines, simulated: each role has its own DATA_DIR and nothing is shared but Redis and the bucket.
describe.runIf(s3Up)(
  "roles on S3 storage with no shared folder, through the shipped binary",
  { timeout: 180_000 },
  () => {
    it("two render workers (own DATA_DIRs) and an exporter (a third): the drop holds every card byte-identical and verifies", async () => {
      const w = await e2eWorld("s3");
      cleanups.push(() => w.dispose());
      const bucket = await testBucket("two-machines");
      cleanups.push(() => bucket.cleanup());
      const machine = (n: string) => ({
        ...w.env,
        ...bucket.env,
        DATA_DIR: path.join(w.dir, `machine-${n}`, "data"),
        EXPORT_DIR: path.join(w.dir, `machine-${n}`, "exports"),
      });
      // The CLI (staff, reviewer, the drop) is the third machine.
      const staff = { ...(await w.account("staff1", ["staff"])), ...machine("c") };
      const reviewer = { ...(await w.account("rev1", ["reviewer"])), ...machine("c") };

      ok(await bin(["speakers", "import", path.join(SAMPLE, "speakers.csv")], { env: staff }));
      ok(await bin(["quotes", "import", path.join(SAMPLE, "quotes.csv")], { env: staff }));
      ok(await bin(["campaigns", "create", path.join(SAMPLE, "campaign.json")], { env: staff }));
      const pending = JSON.parse(
        (await bin(["quotes", "list", "--state", "pending", "--json"], { env: staff })).out,
      ) as { id: string }[];
      for (const q of pending) await changeVetting(w.store, q.id, "vet", "staff1", "sample");

      const a = new RoleProcess(["work", "--queue", "render", "--concurrency", "1"], machine("a"));
      const b = new RoleProcess(["work", "--queue", "render", "--concurrency", "1"], machine("b"));
      roles.push(a, b);
      await Promise.all([a.logged("worker started"), b.logged("worker started")]);

      // Two quotes × the campaign's formats and locales: 8 outputs, shared out between the two workers.
      const queued = await bin(
        ["queue", "why-they-left", "--quote", "not-protecting-en", "not-holy-war-en"],
        {
          env: staff,
          deadlineMs: 90_000,
        },
      );
      ok(queued);
      const rendered = /rendered: (\d+), failed: 0/.exec(queued.out);
      expect(rendered, queued.out).not.toBeNull();
      const count = Number(rendered![1]);
      expect(count).toBe(8);
      // Both machines rendered, and neither wrote a card to its own disk: everything went to the bucket.
      expect(a.log).toContain("output rendered");
      expect(b.log).toContain("output rendered");
      expect(await files(machine("a").DATA_DIR)).toEqual([]);
      expect(await files(machine("b").DATA_DIR)).toEqual([]);

      const inReview = (
        JSON.parse((await bin(["review", "list", "--json", "--limit", "1000"], { env: staff })).out) as {
          items: { id: string }[];
        }
      ).items;
      ok(await bin(["review", "approve", ...inReview.map((o) => o.id)], { env: reviewer }));

      const dropped = await bin(["export", "why-they-left", "--now"], { env: staff, deadlineMs: 60_000 });
      ok(dropped);
      const [, bundleId, outputs] = /^(b-why-they-left-\d+): (\d+) outputs/m.exec(dropped.out)!;
      const listed = JSON.parse((await bin(["bundles", "list", "--json"], { env: staff })).out) as {
        id: string;
        dir: string;
        outputIds: string[];
        zipSha256: string;
      }[];
      const bundle = listed.find((x) => x.id === bundleId)!;
      expect(bundle.outputIds).toHaveLength(Number(outputs));

      // The bundle is in the bucket: download it as a partner would, and verify it with the shipped binary.
      const bundles = s3BlobStore({ ...bucket.settings, prefix: `${bucket.settings.prefix}bundles/` });
      const zipFile = path.join(w.dir, "downloaded.zip");
      await pipeline(await bundles.stream(`${bundle.dir}/bundle.zip`), createWriteStream(zipFile));
      expect(await bundles.exists(`${bundle.dir}/manifest.json`)).toBe(true);
      const zipBytes = (await stat(zipFile)).size;
      expect(zipBytes).toBeGreaterThan(10_000);
      const verified = await bin(["bundles", "verify", zipFile], { env: staff });
      ok(verified);
      expect(verified.out).toMatch(/ok, \d+ entries match the manifest/);

      // Every card in the drop is byte-for-byte what its worker rendered (the sha256 it recorded) and
      // what the bucket holds under the output's key.
      const files_ = s3BlobStore(bucket.settings);
      const entries = await unzip(zipFile);
      for (const id of bundle.outputIds) {
        const out = (await w.store.outputs.get(id))!.value;
        const card = out.files!.card;
        const inBucket = await files_.get(card);
        const sum = createHash("sha256").update(inBucket).digest("hex");
        expect(sum).toBe(out.sha256![card]);
        const entry = entries.get(cardEntryName(out));
        expect(entry, `card of ${id} in the zip`).toBeDefined();
        expect(createHash("sha256").update(entry!).digest("hex")).toBe(sum);
      }
    });
  },
);
