import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Campaign, TextVariant } from "../../src/domain/campaign.js";
import { directionOf } from "../../src/domain/locale.js";
import type { Output } from "../../src/domain/output.js";
import { publicationView } from "../../src/domain/publication.js";
import type { Quote } from "../../src/domain/quote.js";
import type { Speaker } from "../../src/domain/speaker.js";
import type { ZipEntry } from "../../src/export/zip.js";
import { renderCard } from "../../src/render/card/card.render.js";
import { sha256 } from "../../src/render/files.js";
import { loadTextTemplates } from "../../src/render/text/text.render.js";
import type { Store } from "../../src/store/store.js";
import { cardInputsFor } from "./bare-render.js";
import { REVIEWER, STAFF } from "./fixtures.js";
import { inLanes } from "./stats.js";

/** What one pooled output looks like on disk; records in any campaign may point at it. */
type PoolItem = Pick<
  Output,
  "quoteId" | "speakerId" | "locale" | "direction" | "narrative" | "format" | "variants" | "published"
> & { files: NonNullable<Output["files"]>; sha256: Record<string, string>; cardBytes: number };

/** A zip entry as JSON can carry it to the zip-only child: a file, or a text (in memory, as export has it). */
export type PooledZipEntry =
  | Exclude<ZipEntry, { bytes: Buffer }>
  | { name: string; text: string; compress: boolean };

/** Files of `size` outputs in parts of `partSize` (part-0 is the first bundle's worth), with their bytes. */
export type Pool = {
  items: PoolItem[];
  partDir: (p: number) => string;
  rootDir: string;
  /** The part folders holding the first `count` outputs (a multiple of the part size). */
  dirsOf: (count: number) => string[];
  /** Bytes on disk (the cards: texts are on the records) of the first `count` outputs. */
  bytesOf: (count: number) => number;
  /** The zip entries a bundle of the first `count` outputs holds (cards as files, texts in memory, no manifest). */
  zipEntries: (count: number) => PooledZipEntry[];
};

/**
 * Cheap bundle material: 8 real cards (4 formats × Latin/Arabic) copied to `size` card files, with
 * each output's real text variants on its record (as the render leaves them since 2026-12-06: one
 * file per output, its size recorded); checksums match, so export's file check passes.
 */
export async function buildPool(
  store: Store,
  dataDir: string,
  campaign: Campaign,
  quotes: Quote[],
  speakers: Speaker[],
  size: number,
  partSize: number,
): Promise<Pool> {
  const en = quotes.find((q) => q.locale === "en")!;
  const ar = quotes.find((q) => q.locale === "ar")!;
  const cards = new Map<string, { bytes: Buffer; sum: string }>();
  const inputs = await cardInputsFor(store, campaign, [en, ar], speakers);
  for (const input of inputs) {
    const { bytes } = await renderCard(input);
    cards.set(`${input.format}/${input.locale}`, { bytes, sum: sha256(bytes) });
  }
  const templates = loadTextTemplates();
  const bySpeaker = new Map(speakers.map((s) => [s.id, s]));
  const rel = (n: number) => path.join("outputs", "pool", `part-${Math.floor(n / partSize)}`);
  const items: PoolItem[] = [];
  const sizes: number[] = [];
  const fileSizes = new Map<string, number>();
  await inLanes(size, 16, async (n) => {
    const q = quotes[n % quotes.length]!;
    const format = campaign.formats[n % campaign.formats.length]!;
    const view = publicationView(q, bySpeaker.get(q.speakerId)!, campaign, new Date());
    const card = cards.get(`${format}/${q.locale}`)!;
    const dir = rel(n);
    await mkdir(path.join(dataDir, dir), { recursive: true });
    const cardRel = path.join(dir, `${n}.png`);
    await writeFile(path.join(dataDir, cardRel), card.bytes);
    fileSizes.set(cardRel, card.bytes.length);
    const sums: Record<string, string> = { [cardRel]: card.sum };
    const text: Partial<Record<TextVariant, string>> = {};
    const variants: Partial<Record<TextVariant, string>> = {};
    const bytes = card.bytes.length;
    for (const variant of campaign.textVariants) {
      const t = templates.render(variant, view);
      const file = path.join(dir, `${n}.${variant}.txt`);
      text[variant] = file;
      variants[variant] = t;
      sums[file] = sha256(t);
    }
    sizes[n] = bytes;
    items[n] = {
      quoteId: q.id,
      speakerId: q.speakerId,
      locale: q.locale,
      direction: directionOf(q.locale),
      narrative: q.narrative,
      format,
      variants,
      published: {
        attribution: view.attribution,
        citation: view.source.citation,
        quoteText: view.quote.text,
      },
      files: { card: cardRel, text },
      sha256: sums,
      cardBytes: card.bytes.length,
    };
  });
  return {
    items,
    rootDir: path.join(dataDir, "outputs", "pool"),
    partDir: (p) => path.join(dataDir, "outputs", "pool", `part-${p}`),
    dirsOf: (count) =>
      Array.from({ length: Math.ceil(count / partSize) }, (_, p) =>
        path.join(dataDir, "outputs", "pool", `part-${p}`),
      ),
    bytesOf: (count) => sizes.slice(0, count).reduce((a, b) => a + b, 0),
    zipEntries: (count) =>
      items.slice(0, count).flatMap((item, n): PooledZipEntry[] => [
        {
          name: `${n}/${path.basename(item.files.card)}`,
          file: path.join(dataDir, item.files.card),
          size: fileSizes.get(item.files.card)!,
          sha256: item.sha256[item.files.card]!,
          compress: false,
        },
        ...(Object.entries(item.variants ?? {}) as [TextVariant, string][]).map(([variant, text]) => ({
          name: `${n}/${n}.${variant}.txt`,
          text,
          compress: true,
        })),
      ]),
  };
}

/** `count` approved outputs of `campaignId` (records only), pointing at the pool's first files. */
export async function approvedOutputs(
  store: Store,
  pool: Pool,
  campaignId: string,
  idPrefix: string,
  count: number,
): Promise<void> {
  const at = "2026-11-01T10:00:00.000Z";
  const outputs: Output[] = pool.items.slice(0, count).map((item, n) => ({
    ...item,
    id: `${idPrefix}-${n}`,
    campaignId,
    encoding: "png",
    templateVersion: "bench",
    brandVersion: "bench",
    status: "approved",
    queuedBy: STAFF,
    queuedAt: at,
    updatedAt: at,
    attempts: 1,
    decisions: [{ decision: "approved", by: REVIEWER, at }],
    missedDrops: [],
  }));
  for (let i = 0; i < outputs.length; i += 500) {
    await store.outputs.commit({ writes: outputs.slice(i, i + 500).map((o) => store.outputs.write(o)) });
  }
}
