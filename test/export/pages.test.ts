import { describe, expect, it } from "vitest";
import { eachBatch, readAhead } from "../../src/app/export/pages.js";

describe("batched steps", () => {
  it("hand each batch the one after it, and the hook runs between batches only", async () => {
    const seen: string[] = [];
    await eachBatch(
      ["a", "b", "c", "d", "e"],
      { batch: 2, afterBatch: (step) => void seen.push(step) },
      "mark-batch",
      async (chunk, next) => void seen.push(`${chunk.join("")}>${next?.join("") ?? "-"}`),
    );
    expect(seen).toEqual(["ab>cd", "mark-batch", "cd>e", "mark-batch", "e>-"]);
  });

  it("reads a batch ahead once, hands that read to its batch, and reads afresh otherwise", async () => {
    const reads: string[] = [];
    const ahead = readAhead(async (ids: string[]) => {
      reads.push(ids.join(""));
      return ids.map((id) => id.toUpperCase());
    });
    expect(await ahead.take(["a", "b"])).toEqual(["A", "B"]);
    ahead.start(["c", "d"]);
    expect(reads).toEqual(["ab", "cd"]);
    expect(await ahead.take(["c", "d"])).toEqual(["C", "D"]);
    expect(reads).toEqual(["ab", "cd"]); // the read started ahead, not a second one
    ahead.start(["e"]);
    expect(await ahead.take(["f"])).toEqual(["F"]); // not the chunk read ahead: read now
    expect(await ahead.take(["e"])).toEqual(["E"]); // the read ahead was dropped: read again
    expect(reads).toEqual(["ab", "cd", "e", "f", "e"]);
    ahead.start(undefined);
    expect(reads).toHaveLength(5);
  });

  it("a failed read ahead surfaces when its batch takes it, never as an unhandled rejection", async () => {
    const ahead = readAhead(async (ids: string[]) => {
      if (ids[0] === "x") throw new Error("redis down");
      return ids;
    });
    ahead.start(["x"]);
    // The read fails while its batch is not yet taking it (the previous batch still commits).
    await new Promise((r) => setImmediate(r));
    await expect(ahead.take(["x"])).rejects.toThrow("redis down");
  });
});
