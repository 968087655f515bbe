import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import type { Bundle } from "../../domain/bundle.js";
import type { Campaign, TextVariant } from "../../domain/campaign.js";
import { move, type Output } from "../../domain/output.js";
import { findRedactionHit } from "../../domain/redaction.js";
import { cardEntryName, compareIds, manifestOutput, textEntryName } from "../../export/manifest.js";
import { writeZip, type ZipEntry } from "../../export/zip.js";
import { diskBlobStore } from "../../storage/disk.js";
import type { Versioned } from "../../store/entity.repo.js";
import type { Store } from "../../store/store.js";
import type { ExportDeps } from "../export.service.js";
import { publishedTexts, termsFor } from "../safety.service.js";
import { ManifestWriter, writeSidecar } from "./manifest-file.js";
import { pagesReadAhead } from "./pages.js";

/** Step 2 of a drop: the redaction gate, then zip and manifests in a hidden folder renamed into place. */
export type FailedAtExport = { outputId: string; reason: "redaction"; message: string; term?: string };

type Gate = (v: Versioned<Output>) => Promise<boolean>;

/**
 * The redaction check at export, per output: speakers and their terms are read once per drop (a
 * speaker's terms when first met), the term list once. An output that fails it is `failed` at once,
 * and out of the reservation too: a failed output is in no bundle, and a retry starts it afresh.
 */
async function redactionGate(store: Store, actor: string, failed: FailedAtExport[]): Promise<Gate> {
  const stored = await store.redactions.list();
  const termsBySpeaker = new Map<string, Awaited<ReturnType<typeof termsFor>> | undefined>();
  return async (v) => {
    const speakerId = v.value.speakerId;
    if (!termsBySpeaker.has(speakerId)) {
      const speaker = (await store.speakers.get(speakerId))?.value;
      termsBySpeaker.set(speakerId, speaker ? await termsFor(store, speaker, stored) : undefined);
    }
    const terms = termsBySpeaker.get(speakerId);
    // No term, no possible hit: the texts are not normalised for nothing.
    if (terms?.length === 0) return true;
    const hit = terms ? findRedactionHit(publishedTexts(v.value), terms) : { termId: "speaker-missing" };
    if (!hit) return true;
    const at = new Date().toISOString();
    const failure = {
      reason: "redaction" as const,
      message: `matches redaction term ${hit.termId} at export`,
      at,
      attempts: v.value.attempts,
      term: hit.termId,
    };
    failed.push({ outputId: v.value.id, reason: "redaction", message: failure.message, term: hit.termId });
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
    return false;
  };
}

export type WrittenFolder =
  | { written: false; failed: FailedAtExport[] }
  | { written: true; failed: FailedAtExport[]; outputIds: string[]; zip: { sha256: string; bytes: number } };

/**
 * Gate, manifest and zip of a reserved bundle, a page of outputs at a time: the bundle's outputs
 * still approved and reserved by it (withdrawn since reservation: never written) pass the redaction
 * check or fail at export; those that pass go into the manifest as they come (written to a file, in
 * manifest order), then the zip reads them again a page at a time in entry order. Nothing but their
 * ids is held for the whole drop. When nothing passes and there is no takedown, nothing is written.
 */
export async function writeBundleFolder(
  deps: ExportDeps,
  bundle: Bundle,
  campaign: Campaign,
  opts: {
    actor: string;
    batch: number;
    /** Checked just before the rename: throws when this drop no longer owns the bundle. */
    stillOwned?: () => void;
  },
): Promise<WrittenFolder> {
  const { store } = deps;
  const finalDir = path.join(deps.exportDir, bundle.dir);
  await mkdir(path.dirname(finalDir), { recursive: true });
  await removeStaleTemporaries(finalDir);
  const tmpDir = `${path.join(path.dirname(finalDir), `.${path.basename(finalDir)}`)}.${randomBytes(4).toString("hex")}.tmp`;
  await mkdir(tmpDir);
  try {
    const inDir = path.join(tmpDir, ".in");
    await mkdir(inDir);
    const failed: FailedAtExport[] = [];
    const gate = await redactionGate(store, opts.actor, failed);
    const manifestFile = path.join(inDir, "manifest.json");
    const manifest = await ManifestWriter.create(manifestFile, {
      schema: "testimony.bundle/1",
      bundle: bundle.id,
      campaign: { id: campaign.id, name: campaign.name },
      slot: bundle.slot,
      takedowns: [...bundle.takedowns].sort().map((outputId) => ({ outputId, action: "take down" as const })),
    });
    const passed: string[] = [];
    /** One page of records: the reserved ones that pass the gate go into the manifest, in order. */
    const gated = async (page: Versioned<Output>[]): Promise<Output[]> => {
      const outputs = page.filter((v) => v.value.status === "approved" && v.value.bundleId === bundle.id);
      const through: Output[] = [];
      for (const v of outputs) if (await gate(v)) through.push(v.value);
      const quotes = new Map(
        (await store.quotes.getMany([...new Set(through.map((o) => o.quoteId))])).map((q) => [
          q.value.id,
          q.value,
        ]),
      );
      for (const o of through) {
        await manifest.add(manifestOutput(o, quotes.get(o.quoteId)!));
        passed.push(o.id);
      }
      return through;
    };
    let written: { sha256: string; bytes: number } | undefined;
    const finishManifest = async () => {
      written = await manifest.finish();
      return written;
    };
    const zipOrder = [...bundle.outputIds].sort(byEntryName);
    const zipFile = path.join(tmpDir, "bundle.zip");
    let zip: { sha256: string; bytes: number } | undefined;
    try {
      if (zipOrder.every((id, i) => i === 0 || compareIds(zipOrder[i - 1]!, id) < 0)) {
        // Manifest order is entry order (the usual case): one pass over the records. Each page is
        // gated, added to the manifest, and its cards written to the zip as it comes; the manifest
        // is complete when the zip reaches its entry, after the last card.
        const pages = (async function* () {
          for await (const page of pagesReadAhead(zipOrder, opts.batch, (ids) => store.outputs.getMany(ids)))
            yield entriesOf(await gated(page));
        })();
        zip = await writeZip(
          zipFile,
          zipEntries(deps, pages, inDir, manifestEntry(manifestFile, finishManifest)),
        );
      } else {
        // The next page is read while this one is checked and written.
        const sorted = [...bundle.outputIds].sort(compareIds);
        for await (const page of pagesReadAhead(sorted, opts.batch, (ids) => store.outputs.getMany(ids)))
          await gated(page);
        await finishManifest();
        if (passed.length > 0 || bundle.takedowns.length > 0) {
          const order = [...passed].sort(byEntryName);
          const pages = pagesReadAhead(order, opts.batch, async (ids) =>
            entriesOf(await recordsOf(store, ids)),
          );
          zip = await writeZip(
            zipFile,
            zipEntries(
              deps,
              pages,
              inDir,
              manifestEntry(manifestFile, async () => written!),
            ),
          );
        }
      }
    } catch (err) {
      await manifest.abort();
      throw err;
    }
    if (failed.length > 1) {
      // Reported in the drop's order (oldest approval first), as the bundle lists them.
      const at = new Map(bundle.outputIds.map((id, i) => [id, i]));
      failed.sort((a, b) => at.get(a.outputId)! - at.get(b.outputId)!);
    }
    if (!zip || !written || (passed.length === 0 && bundle.takedowns.length === 0)) {
      await rm(tmpDir, { recursive: true, force: true });
      return { written: false, failed };
    }
    await writeSidecar(
      manifestFile,
      path.join(tmpDir, "manifest.json"),
      { generatedAt: new Date().toISOString(), zip: { file: "bundle.zip", ...zip } },
      written.bytes,
    );
    await rm(inDir, { recursive: true, force: true });
    await deps.afterStep?.("written");
    opts.stillOwned?.();
    await rename(tmpDir, finalDir);
    await deps.afterStep?.("renamed");
    return { written: true, failed, outputIds: passed.sort(), zip };
  } catch (err) {
    await rm(tmpDir, { recursive: true, force: true });
    throw err;
  }
}

/** Files fetched from remote storage at once: bounds open sockets and what is in flight. */
const FETCH_AHEAD = 8;
/** Local files stat'ed at once (outputs rendered before sizes were recorded). */
const STAT_AHEAD = 64;

type FileRef = { name: string; rel: string; sha256: string; compress: boolean; size?: number };
/** One text entry staged between the card pass and the text pass: its bytes from the record, or its file. */
export type StagedText = { name: string; sha256: string } & ({ text: string } | { rel: string });
/** What the text pass reads back: a text's bytes (a view of the chunk read), or the file to read it from. */
type Restaged = { name: string; sha256: string } & ({ bytes: Buffer } | { rel: string });

/** Zip entry order of output ids: `<id>.` sorts as their entry names do. */
const byEntryName = (a: string, b: string) => (`${a}.` < `${b}.` ? -1 : `${a}.` > `${b}.` ? 1 : 0);

/** The manifest's zip entry, once the manifest file is complete (`done` finishes it). */
const manifestEntry =
  (file: string, done: () => Promise<{ sha256: string; bytes: number }>) => async (): Promise<ZipEntry> => {
    const w = await done();
    return { name: "manifest.json", file, size: w.bytes, sha256: w.sha256, compress: true };
  };

type PageEntries = { cards: FileRef[]; staging: Buffer };

/**
 * The zip's entries in name order: every card (`cards/<id>.<ext>`), the manifest, every text
 * (`text/<id>.<variant>.txt`), from `pages` of outputs in entry order (`byEntryName`). Each page's
 * cards go out as they come, and each output's texts, from its record (`variants`, checked against
 * the sha256 the manifest lists), are staged in `stageDir/texts.staged` in the same order and
 * streamed back after the manifest; so no text file is read, no record is read twice, and nothing
 * but a page is held. An output whose record lacks a text (none today) has it read from its file.
 * On disk storage the zip reads DATA_DIR's cards in place, at the size recorded at render (a stat
 * only for outputs rendered before sizes were recorded). On S3 each card streams from the bucket
 * into `stageDir` (this drop's temporary folder, removed with it), a few at a time; writeZip then
 * checks each file's sha256 as it reads it.
 */
async function* zipEntries(
  deps: ExportDeps,
  pages: AsyncIterable<PageEntries>,
  stageDir: string,
  manifest: () => Promise<ZipEntry>,
): AsyncGenerator<ZipEntry> {
  const blobs = deps.files ?? diskBlobStore(deps.dataDir);
  const local = Boolean(blobs.localPath("x"));
  let staged = 0;
  const entry = async (f: FileRef): Promise<ZipEntry> => {
    let file = blobs.localPath(f.rel);
    if (!file) {
      file = path.join(stageDir, `f${staged++}`);
      await pipeline(await blobs.stream(f.rel), createWriteStream(file));
    } else if (f.size !== undefined) {
      return { name: f.name, file, size: f.size, sha256: f.sha256, compress: f.compress };
    }
    return { name: f.name, file, size: (await stat(file)).size, sha256: f.sha256, compress: f.compress };
  };
  const textsFile = path.join(stageDir, "texts.staged");
  const texts = await open(textsFile, "w");
  try {
    // The next page is read while this one's cards are written: Redis and the disk overlap.
    for await (const { cards, staging } of pages) {
      const data = staging;
      for (let done = 0; done < data.length; )
        done += (await texts.write(data, done, data.length - done, null)).bytesWritten;
      if (local && cards.every((c) => c.size !== undefined)) {
        // Sizes known, nothing to fetch: no stat, no wait.
        for (const c of cards) yield await entry(c);
      } else {
        // Sizes (and fetches) in parallel: thousands of sequential stats cost a second on a big drop.
        yield* await inParallel(cards, local ? STAT_AHEAD : FETCH_AHEAD, entry);
      }
    }
  } finally {
    await texts.close();
  }
  yield await manifest();
  for await (const t of restaged(textsFile)) {
    yield "bytes" in t
      ? { name: t.name, bytes: t.bytes, sha256: t.sha256, compress: true }
      : await entry({ name: t.name, rel: t.rel, sha256: t.sha256, compress: true });
  }
}

/**
 * Staged texts are records of bytes, not JSON lines: a 9-byte header (kind: 0 text, 1 file; the
 * byte lengths of name u16, sha256 u16, payload u32, little-endian), then the name, the sha256 and
 * the payload (the text as UTF-8, or the file's key), so the text pass neither parses nor re-encodes.
 */
const STAGE_HEADER = 9;
const STAGE_CHUNK = 1024 * 1024;

export function stageTexts(texts: StagedText[]): Buffer {
  const pieces = texts.map((t) => {
    const payload = "text" in t ? t.text : t.rel;
    return {
      kind: "text" in t ? 0 : 1,
      t,
      payload,
      n: Buffer.byteLength(t.name),
      s: Buffer.byteLength(t.sha256),
      p: Buffer.byteLength(payload),
    };
  });
  const out = Buffer.allocUnsafe(pieces.reduce((sum, x) => sum + STAGE_HEADER + x.n + x.s + x.p, 0));
  let at = 0;
  for (const x of pieces) {
    if (x.n > 0xffff || x.s > 0xffff) throw new Error(`text entry ${x.t.name}: name or checksum too long`);
    out.writeUInt8(x.kind, at);
    out.writeUInt16LE(x.n, at + 1);
    out.writeUInt16LE(x.s, at + 3);
    out.writeUInt32LE(x.p, at + 5);
    at += STAGE_HEADER;
    at += out.write(x.t.name, at, "utf8");
    at += out.write(x.t.sha256, at, "utf8");
    at += out.write(x.payload, at, "utf8");
  }
  return out;
}

/** The staged texts back, in order, read a chunk at a time (each chunk a fresh buffer: the views handed out stay valid). */
export async function* restaged(file: string): AsyncGenerator<Restaged> {
  const fh = await open(file, "r");
  try {
    let buf = Buffer.alloc(0);
    let at = 0;
    let eof = false;
    /** At least `n` bytes from `at` in `buf`, unless the file ends first. */
    const have = async (n: number) => {
      while (buf.length - at < n && !eof) {
        const next = Buffer.allocUnsafe(Math.max(STAGE_CHUNK, n));
        const kept = buf.copy(next, 0, at);
        const { bytesRead } = await fh.read(next, kept, next.length - kept, null);
        if (bytesRead === 0) eof = true;
        buf = next.subarray(0, kept + bytesRead);
        at = 0;
      }
      return buf.length - at >= n;
    };
    while (await have(1)) {
      if (!(await have(STAGE_HEADER))) throw new Error(`${file}: cut short`);
      const kind = buf[at]!;
      const n = buf.readUInt16LE(at + 1);
      const s = buf.readUInt16LE(at + 3);
      const p = buf.readUInt32LE(at + 5);
      if (!(await have(STAGE_HEADER + n + s + p))) throw new Error(`${file}: cut short`);
      const i = at + STAGE_HEADER;
      const name = buf.toString("utf8", i, i + n);
      const sha256 = buf.toString("utf8", i + n, i + n + s);
      const payload = buf.subarray(i + n + s, i + n + s + p);
      at = i + n + s + p;
      yield kind === 0 ? { name, sha256, bytes: payload } : { name, sha256, rel: payload.toString("utf8") };
    }
  } finally {
    await fh.close();
  }
}

/** The records of `chunk`, in its order; one that vanished while its bundle was written fails the drop. */
async function recordsOf(store: Store, chunk: string[]): Promise<Output[]> {
  const outputs = new Map((await store.outputs.getMany(chunk)).map((v) => [v.value.id, v.value]));
  return chunk.map((id) => {
    const o = outputs.get(id);
    if (!o) throw new Error(`output ${id} disappeared while its bundle was written`);
    return o;
  });
}

/**
 * Outputs (in entry order) reduced to what the zip needs: their card entries, and their text
 * entries staged as bytes (`stageTexts`). The records themselves
 * are unreachable once this returns, before the cards are written: they die young.
 */
function entriesOf(outputs: Output[]): PageEntries {
  const cards: FileRef[] = [];
  const staged: StagedText[] = [];
  for (const o of outputs) {
    const card = o.files!.card;
    cards.push({
      name: cardEntryName(o),
      rel: card,
      sha256: o.sha256![card]!,
      compress: false,
      size: o.cardBytes,
    });
    const own = (Object.entries(o.files!.text) as [TextVariant, string][])
      .map(([variant, rel]): StagedText => {
        const name = textEntryName(o, variant);
        const sha256 = o.sha256![rel]!;
        const text = o.variants?.[variant];
        // The text as the render wrote it (UTF-8), from the record: byte for byte the old file.
        return text !== undefined ? { name, sha256, text } : { name, sha256, rel };
      })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    staged.push(...own);
  }
  return { cards, staging: stageTexts(staged) };
}

async function inParallel<T, R>(items: T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
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
