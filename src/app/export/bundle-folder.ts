import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import type { Bundle } from "../../domain/bundle.js";
import type { Campaign } from "../../domain/campaign.js";
import { move, type Output } from "../../domain/output.js";
import { findRedactionHit } from "../../domain/redaction.js";
import { buildManifest, cardEntryName, textEntryName } from "../../export/manifest.js";
import { writeZip, type ZipEntry } from "../../export/zip.js";
import { diskBlobStore } from "../../storage/disk.js";
import type { Store } from "../../store/store.js";
import type { ExportDeps } from "../export.service.js";
import { publishedTexts, termsFor } from "../safety.service.js";

/** Step 2 of a drop: the redaction gate, then zip and manifests in a hidden folder renamed into place. */
export type FailedAtExport = { outputId: string; reason: "redaction"; message: string; term?: string };

export async function passRedactionGate(
  store: Store,
  ids: string[],
  actor: string,
): Promise<{ passed: Output[]; failed: FailedAtExport[] }> {
  const outputs = await store.outputs.getMany(ids);
  // One read of the speakers and of the term list per drop, not per output.
  const speakerIds = [...new Set(outputs.map((v) => v.value.speakerId))];
  const speakers = new Map((await store.speakers.getMany(speakerIds)).map((s) => [s.value.id, s.value]));
  const stored = await store.redactions.list();
  const termsBySpeaker = new Map<string, Awaited<ReturnType<typeof termsFor>>>();
  for (const s of speakers.values()) termsBySpeaker.set(s.id, await termsFor(store, s, stored));
  const passed: Output[] = [];
  const failed: FailedAtExport[] = [];
  for (const v of outputs) {
    if (v.value.status !== "approved") continue;
    const terms = termsBySpeaker.get(v.value.speakerId);
    const hit = terms ? findRedactionHit(publishedTexts(v.value), terms) : { termId: "speaker-missing" };
    if (!hit) {
      passed.push(v.value);
      continue;
    }
    const at = new Date().toISOString();
    const failure = {
      reason: "redaction" as const,
      message: `matches redaction term ${hit.termId} at export`,
      at,
      attempts: v.value.attempts,
      term: hit.termId,
    };
    failed.push({ outputId: v.value.id, reason: "redaction", message: failure.message, term: hit.termId });
    // Out of the reservation too: a failed output is in no bundle, and a retry starts it afresh.
    await store.outputs.commit({
      writes: [store.outputs.write(move(v.value, "failed", at, { failure, bundleId: undefined }), v)],
      audit: [
        {
          actor,
          action: "output.failed",
          entity: v.value.id,
          from: "approved",
          to: "failed",
          at,
          detail: "redaction",
        },
      ],
    });
  }
  return { passed, failed };
}

export async function writeBundleFolder(
  deps: ExportDeps,
  bundle: Bundle,
  campaign: Campaign,
  included: Output[],
  /** Checked just before the rename: throws when this drop no longer owns the bundle. */
  stillOwned: () => void = () => undefined,
) {
  const quotes = new Map(
    (await deps.store.quotes.getMany([...new Set(included.map((o) => o.quoteId))])).map((q) => [
      q.value.id,
      q.value,
    ]),
  );
  const manifest = buildManifest({
    bundleId: bundle.id,
    campaign,
    slot: bundle.slot,
    outputs: included.map((o) => ({ output: o, quote: quotes.get(o.quoteId)! })),
    takedowns: bundle.takedowns,
  });
  const files = included.flatMap((o) => [
    { name: cardEntryName(o), rel: o.files!.card, sha256: o.sha256![o.files!.card]!, compress: false },
    ...Object.entries(o.files!.text).map(([variant, rel]) => ({
      name: textEntryName(o, variant as never),
      rel,
      sha256: o.sha256![rel]!,
      compress: true,
    })),
  ]);
  const manifestJson = `${JSON.stringify(manifest, null, 2)}\n`;

  const finalDir = path.join(deps.exportDir, bundle.dir);
  await mkdir(path.dirname(finalDir), { recursive: true });
  await removeStaleTemporaries(finalDir);
  const tmpDir = `${path.join(path.dirname(finalDir), `.${path.basename(finalDir)}`)}.${randomBytes(4).toString("hex")}.tmp`;
  await mkdir(tmpDir);
  try {
    const entries: ZipEntry[] = await zipEntries(deps, files, path.join(tmpDir, ".in"));
    entries.push({ name: "manifest.json", bytes: Buffer.from(manifestJson), compress: true });
    const zip = await writeZip(path.join(tmpDir, "bundle.zip"), entries);
    const sidecar = {
      ...manifest,
      generatedAt: new Date().toISOString(),
      zip: { file: "bundle.zip", ...zip },
    };
    await writeFile(path.join(tmpDir, "manifest.json"), `${JSON.stringify(sidecar, null, 2)}\n`);
    await rm(path.join(tmpDir, ".in"), { recursive: true, force: true });
    await deps.afterStep?.("written");
    stillOwned();
    await rename(tmpDir, finalDir);
    await deps.afterStep?.("renamed");
  } catch (err) {
    await rm(tmpDir, { recursive: true, force: true });
    throw err;
  }
}

type BundleFile = { name: string; rel: string; sha256: string; compress: boolean };
/** Files fetched from remote storage at once: bounds open sockets and what is in flight. */
const FETCH_AHEAD = 8;

/**
 * The zip's file entries. On disk storage the zip reads DATA_DIR's files in place. On S3 each card and
 * text streams from the bucket into `stageDir` (this drop's temporary folder, removed with it), a few at a
 * time, so no bundle is ever whole in memory; writeZip then checks each file's sha256 as it reads it.
 */
async function zipEntries(deps: ExportDeps, files: BundleFile[], stageDir: string): Promise<ZipEntry[]> {
  const blobs = deps.files ?? diskBlobStore(deps.dataDir);
  const entries: ZipEntry[] = new Array(files.length);
  let next = 0;
  let staged = false;
  const one = async (i: number) => {
    const f = files[i]!;
    let file = blobs.localPath(f.rel);
    if (!file) {
      if (!staged) {
        await mkdir(stageDir, { recursive: true });
        staged = true;
      }
      file = path.join(stageDir, String(i));
      await pipeline(await blobs.stream(f.rel), createWriteStream(file));
    }
    entries[i] = {
      name: f.name,
      file,
      size: (await stat(file)).size,
      sha256: f.sha256,
      compress: f.compress,
    };
  };
  // Sizes (and fetches) in parallel: thousands of sequential stats cost a second on a big drop.
  const width = blobs.localPath("x") ? 64 : FETCH_AHEAD;
  await Promise.all(
    Array.from({ length: Math.min(width, files.length) }, async () => {
      while (next < files.length) await one(next++);
    }),
  );
  return entries;
}

/** Leftovers of a run that crashed mid-write: hidden, never renamed into place, safe to delete. */
async function removeStaleTemporaries(finalDir: string) {
  const prefix = `.${path.basename(finalDir)}.`;
  for (const name of await readdir(path.dirname(finalDir))) {
    if (name.startsWith(prefix) && name.endsWith(".tmp")) {
      await rm(path.join(path.dirname(finalDir), name), { recursive: true, force: true });
    }
  }
}

export async function exists(file: string) {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
