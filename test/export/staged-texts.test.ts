// The zip's text entries are staged on disk between the card pass and the text pass (so a drop holds
// a page, not every text): what is staged must come back exactly, in order, across read chunks.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { restaged, type StagedText, stageTexts } from "../../src/app/export/bundle-folder.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("staged texts", () => {
  it("come back byte for byte and in order: multi-byte, empty, line breaks, a file key, records across 1 MiB chunks, one text over 1 MiB", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "tm-staged-"));
    dirs.push(dir);
    const texts: StagedText[] = [];
    const samples = ["“Why we left” — لماذا غادروا 🕊️", "", "two\nlines\r\n", "x".repeat(70_000)];
    for (let i = 0; i < 120; i++) {
      const name = `text/o-${String(i).padStart(4, "0")}.post.txt`;
      texts.push(
        i === 7
          ? { name, sha256: `s${i}`, rel: `outputs/c/o-${i}.post.txt` }
          : { name, sha256: `s${i}`, text: samples[i % samples.length]! },
      );
    }
    texts.push({ name: "text/zz-big.txt", sha256: "big", text: "é".repeat(700_000) });
    const file = path.join(dir, "texts.staged");
    // Written in pages, as the card pass does.
    const pages = [texts.slice(0, 50), texts.slice(50, 100), texts.slice(100)].map(stageTexts);
    await writeFile(file, Buffer.concat(pages));
    const back = [];
    for await (const t of restaged(file)) back.push(t);
    expect(back.map((t) => t.name)).toEqual(texts.map((t) => t.name));
    for (const [i, t] of texts.entries()) {
      const b = back[i]!;
      expect(b.sha256).toBe(t.sha256);
      if ("text" in t) expect("bytes" in b && b.bytes.equals(Buffer.from(t.text, "utf8"))).toBe(true);
      else expect(b).toMatchObject({ rel: t.rel });
    }
  });

  it("a staged file cut short fails the drop instead of losing texts", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "tm-staged-"));
    dirs.push(dir);
    const whole = stageTexts([{ name: "text/a.txt", sha256: "s", text: "hello" }]);
    const file = path.join(dir, "texts.staged");
    await writeFile(file, whole.subarray(0, whole.length - 2));
    const read = async () => {
      for await (const _ of restaged(file)) {
        // drain
      }
    };
    await expect(read()).rejects.toThrow(/cut short/);
  });
});
