import { describe, expect, it } from "vitest";
import { eachBatch, pagesReadAhead, readAhead } from "../../src/app/export/pages.js";

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

  it("a batch's first attempt takes the read started ahead and starts the next; a retry reads afresh", async () => {
    const reads: string[] = [];
    const ahead = readAhead(async (ids: string[]) => {
      reads.push(ids.join(""));
      return ids.join("");
    });
    ahead.start(["a", "b"]);
    const read = ahead.forBatch(["a", "b"], ["c"]);
    expect(await read()).toBe("ab");
    expect(reads).toEqual(["ab", "c"]); // no second read of ab; c started ahead
    expect(await read()).toBe("ab"); // a retry after a conflict
    expect(reads).toEqual(["ab", "c", "ab"]);
    expect(await ahead.forBatch(["c"], undefined)()).toBe("c");
    expect(reads).toEqual(["ab", "c", "ab"]); // c's read ahead was used
  });
});
