import { describe, expect, it } from "vitest";
import { eachBatch, pagesReadAhead } from "../../src/app/export/pages.js";

describe("batched steps", () => {
  it("hand out each batch in order, and the hook runs between batches only", async () => {
    const seen: string[] = [];
    await eachBatch(
      ["a", "b", "c", "d", "e"],
      { batch: 2, afterBatch: (step) => void seen.push(step) },
      "mark-batch",
      async (chunk) => void seen.push(chunk.join("")),
    );
    expect(seen).toEqual(["ab", "mark-batch", "cd", "mark-batch", "e"]);
  });

  it("hands out pages in order and starts the next page's read while the caller holds this one", async () => {
    const reads: string[] = [];
    const seen: string[] = [];
    for await (const page of pagesReadAhead(["a", "b", "c", "d", "e"], 2, async (ids) => {
      reads.push(ids.join(""));
      return ids.join("");
    })) {
      // The page after this one is already being read (one ahead, never more).
      seen.push(`${page}:${reads.join(",")}`);
    }
    expect(seen).toEqual(["ab:ab,cd", "cd:ab,cd,e", "e:ab,cd,e"]);
  });

  it("a failed page read surfaces when that page is reached, after the pages before it", async () => {
    const seen: string[] = [];
    const walk = async () => {
      for await (const page of pagesReadAhead(["a", "b", "c"], 1, async (ids) => {
        if (ids[0] === "c") throw new Error("read c failed");
        return ids[0]!;
      }))
        seen.push(page);
    };
    await expect(walk()).rejects.toThrow("read c failed");
    expect(seen).toEqual(["a", "b"]);
  });
});
