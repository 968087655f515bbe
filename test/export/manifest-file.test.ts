import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManifestWriter, readWrittenManifest, writeSidecar } from "../../src/app/export/manifest-file.js";
import type { Manifest, ManifestOutput } from "../../src/export/manifest.js";
import { sha256 } from "../../src/render/files.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "tm-manifest-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const entry = (id: string): ManifestOutput => ({
  id,
  format: "square",
  locale: "ar",
  direction: "rtl",
  narrative: "corruption",
  files: [{ path: `cards/${id}.png`, sha256: "ab".repeat(32) }],
  text: { post: `“قال” \\ "quoted"\nline ${id}`, alt_text: "alt" },
  altText: "alt",
  source: { title: "T", publisher: "P", url: null, publishedAt: "2015-09-21", citation: "C" },
  attribution: 'Pseudonym "s1"',
  approvedBy: "reviewer1",
  approvedAt: "2026-11-01T10:00:00.000Z",
});

describe("the streamed manifest", () => {
  for (const n of [0, 1, 3]) {
    it(`is byte for byte JSON.stringify(manifest, null, 2), and its sidecar too (${n} outputs)`, async () => {
      const skeleton = {
        schema: "testimony.bundle/1" as const,
        bundle: "b-x-1",
        campaign: { id: "x", name: 'A "name" with "outputs": []' },
        slot: "2026-11-23T06:00:00.000Z",
        takedowns: n ? [{ outputId: "o-gone", action: "take down" as const }] : [],
      };
      const outputs = Array.from({ length: n }, (_, i) => entry(`o-${i}`));
      const file = path.join(dir, `m${n}.json`);
      const w = await ManifestWriter.create(file, skeleton);
      for (const o of outputs) await w.add(o);
      const { sha256: sum, bytes } = await w.finish();
      const manifest: Manifest = { ...skeleton, outputs };
      const expected = `${JSON.stringify(manifest, null, 2)}\n`;
      const got = await readFile(file, "utf8");
      expect(got).toBe(expected);
      expect(sum).toBe(sha256(expected));
      expect(bytes).toBe(Buffer.byteLength(expected));

      const zip = { file: "bundle.zip", sha256: "cd".repeat(32), bytes: 1234 };
      const sidecar = path.join(dir, `s${n}.json`);
      await writeSidecar(file, sidecar, { generatedAt: "2026-11-23T06:00:05.000Z", zip }, bytes);
      expect(await readFile(sidecar, "utf8")).toBe(
        `${JSON.stringify({ ...manifest, generatedAt: "2026-11-23T06:00:05.000Z", zip }, null, 2)}\n`,
      );
      expect(await readWrittenManifest(sidecar)).toEqual({
        ids: outputs.map((o) => o.id),
        zip: { sha256: zip.sha256, bytes: zip.bytes },
      });
    });
  }
});
