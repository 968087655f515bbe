import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { exportSlot } from "../../src/app/export.service.js";
import type { Output } from "../../src/domain/output.js";
import { sha256 } from "../../src/render/files.js";
import { aCampaign, anOutput, aQuote, aSpeaker, saveAll } from "../support/builders.js";
import { testStore } from "../support/redis.js";
import { unzip } from "../support/zip.js";

/*
 * Since 2026-12-06 the render writes one file per output (the card) and records its size; the texts
 * live only on the record (`variants`). Export writes the zip's texts from the record and reads each
 * card at its recorded size. Outputs rendered before (text files, no size) must give the same bytes.
 */
const log = pino({ level: "silent" });
const SLOT = new Date("2026-11-23T06:00:00Z");
const BUNDLE = path.join("why-they-left", "2026-11-23T06-00-00Z", "bundle.zip");
const opened: { cleanup(): Promise<void> }[] = [];
afterAll(async () => {
  for (const t of opened) await t.cleanup();
});

/** The same two approved outputs in a store of their own; `renderedNow` makes them as today's render leaves them. */
async function world(name: string, renderedNow: boolean) {
  const t = testStore(name);
  opened.push(t);
  const dataDir = await mkdtemp(path.join(tmpdir(), "tm-data-"));
  const exportDir = await mkdtemp(path.join(tmpdir(), "tm-exports-"));
  const quotes = [aQuote("q1", "s1"), aQuote("q2", "s2", { locale: "ar", text: "هذه ليست حربًا مقدسة" })];
  await saveAll(t.store, { campaigns: [aCampaign()], speakers: [aSpeaker("s1"), aSpeaker("s2")], quotes });
  const texts = new Map<string, Buffer>();
  for (const [i, q] of quotes.entries()) {
    const o = await anOutput(t.store, dataDir, q, { approvedAt: `2026-11-0${i + 1}T10:00:00.000Z` });
    for (const [variant, rel] of Object.entries(o.files!.text)) {
      texts.set(`text/${o.id}.${variant}.txt`, await readFile(path.join(dataDir, rel)));
    }
    if (renderedNow) await asRenderedNow(t.store, dataDir, o.id);
  }
  return { ...t, dataDir, exportDir, texts, deps: { store: t.store, dataDir, exportDir, log } };
}

/** No text files, the card's size on the record. */
async function asRenderedNow(store: ReturnType<typeof testStore>["store"], dataDir: string, id: string) {
  const v = (await store.outputs.get(id))!;
  for (const rel of Object.values(v.value.files!.text)) await rm(path.join(dataDir, rel));
  const cardBytes = (await stat(path.join(dataDir, v.value.files!.card))).size;
  await store.outputs.commit({ writes: [store.outputs.write({ ...v.value, cardBytes }, v)] });
}

async function edit(store: ReturnType<typeof testStore>["store"], id: string, f: (o: Output) => Output) {
  const v = (await store.outputs.get(id))!;
  await store.outputs.commit({ writes: [store.outputs.write(f(v.value), v)] });
}

describe("export of outputs whose texts live on the record", () => {
  it("gives the same zip, byte for byte, as outputs rendered with text files", async () => {
    const before = await world("texts-old", false);
    const now = await world("texts-new", true);
    for (const w of [before, now]) {
      const r = await exportSlot(w.deps, { campaignId: "why-they-left", slot: SLOT, actor: "scheduler" });
      expect(r.status).toBe("written");
    }
    const oldZip = await readFile(path.join(before.exportDir, BUNDLE));
    const newZip = await readFile(path.join(now.exportDir, BUNDLE));
    expect(sha256(newZip)).toBe(sha256(oldZip));

    // Each text entry is what the old file held, and the manifest lists its sha256.
    const entries = await unzip(path.join(now.exportDir, BUNDLE));
    const manifest = JSON.parse(entries.get("manifest.json")!.toString("utf8")) as {
      outputs: { files: { path: string; sha256: string }[] }[];
    };
    const listed = new Map(manifest.outputs.flatMap((o) => o.files.map((f) => [f.path, f.sha256])));
    expect(now.texts.size).toBe(4);
    for (const [name, bytes] of now.texts) {
      expect(entries.get(name)?.equals(bytes), name).toBe(true);
      expect(listed.get(name), name).toBe(sha256(bytes));
    }
  });

  it("reads a text from its file when the record lacks it (an output rendered before texts were kept)", async () => {
    const w = await world("texts-file", false);
    const id = (await w.store.outputs.ids())[0]!;
    await edit(w.store, id, (o) => ({ ...o, variants: { alt_text: o.variants!.alt_text } }));
    const rel = (await w.store.outputs.get(id))!.value.files!.text.post!;
    await writeFile(path.join(w.dataDir, rel), w.texts.get(`text/${id}.post.txt`)!);
    const r = await exportSlot(w.deps, { campaignId: "why-they-left", slot: SLOT, actor: "scheduler" });
    expect(r.status).toBe("written");
    const entries = await unzip(path.join(w.exportDir, BUNDLE));
    expect(entries.get(`text/${id}.post.txt`)?.equals(w.texts.get(`text/${id}.post.txt`)!)).toBe(true);
    expect([...entries.keys()].filter((n) => n.startsWith("text/"))).toHaveLength(4);
  });

  it("fails the drop when a record's text no longer matches the sha256 it was rendered with", async () => {
    const w = await world("texts-tampered", true);
    const id = (await w.store.outputs.ids())[0]!;
    await edit(w.store, id, (o) => ({ ...o, variants: { ...o.variants, post: `${o.variants!.post}!` } }));
    await expect(
      exportSlot(w.deps, { campaignId: "why-they-left", slot: SLOT, actor: "scheduler" }),
    ).rejects.toThrow(new RegExp(`changed on disk since they were rendered: text/${id}\\.post\\.txt`));
  });

  it("fails the drop when a card was replaced since render, whatever size the record says", async () => {
    const w = await world("texts-card", true);
    const id = (await w.store.outputs.ids())[0]!;
    const card = (await w.store.outputs.get(id))!.value.files!.card;
    const bytes = await readFile(path.join(w.dataDir, card));
    // Same length, one byte different: caught by the sha256, not by a size.
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
    await writeFile(path.join(w.dataDir, card), bytes);
    await expect(
      exportSlot(w.deps, { campaignId: "why-they-left", slot: SLOT, actor: "scheduler" }),
    ).rejects.toThrow(/changed on disk since they were rendered: cards\//);
  });
});
