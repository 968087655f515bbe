import { describe, expect, it } from "vitest";
import { findRedactionHit, normaliseForRedaction } from "../src/domain/redaction.js";

const terms = [
  { id: "r-latin", term: "Abu Muhammad" },
  { id: "r-arabic", term: "أبو محمد" },
];

describe("redaction matching", () => {
  it("catches a term through case, diacritics and repeated spaces", () => {
    expect(findRedactionHit(["Said ABU  MUḤAMMAD yesterday"], terms)).toEqual({ termId: "r-latin" });
  });
  it("catches a term with a zero-width joiner inside", () => {
    expect(findRedactionHit(["abu mu\u200Dhammad was there"], terms)).toEqual({ termId: "r-latin" });
  });
  it("catches the Arabic form with tatweel, harakat and letter variants", () => {
    expect(normaliseForRedaction("أبـــو مُحَمَّد")).toBe(normaliseForRedaction("ابو محمد"));
    expect(findRedactionHit(["قال ابـــو مُحَمَّد"], terms)).toEqual({ termId: "r-arabic" });
  });
  it("matches whole words only and reports no hit in clean text", () => {
    expect(findRedactionHit(["Abu Muhammadi is a different word"], terms)).toBeUndefined();
    expect(findRedactionHit(["This is not a holy war"], terms)).toBeUndefined();
  });
});
