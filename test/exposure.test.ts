import { describe, expect, it } from "vitest";
import { selectForDrop } from "../src/domain/exposure.js";

const items = (speaker: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: `${speaker}${i}`, speakerId: speaker }));

describe("exposure cap", () => {
  it("takes round-robin across speakers up to the cap; the rest wait", () => {
    // Three speakers holding 1, 4 and 9 approved outputs, oldest first, interleaved by age.
    const all = [...items("a", 1), ...items("b", 4), ...items("c", 9)].sort((x, y) =>
      x.id.slice(1).localeCompare(y.id.slice(1)),
    );
    const { selected, deferred } = selectForDrop(all, { perDrop: 2 });
    expect(selected.map((x) => x.id)).toEqual(["a0", "b0", "c0", "b1", "c1"]);
    expect(deferred).toHaveLength(14 - 5);
    expect(deferred.map((x) => x.id)).toContain("c2");
  });

  it("respects the rolling seven-day allowance", () => {
    const { selected } = selectForDrop([...items("a", 5), ...items("b", 5)], {
      perDrop: 3,
      per7Days: 4,
      exportedLast7Days: (s) => (s === "a" ? 3 : 0),
    });
    expect(selected.map((x) => x.id)).toEqual(["a0", "b0", "b1", "b2"]);
  });
});
