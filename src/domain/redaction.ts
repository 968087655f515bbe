import { cleanText } from "./clean-text.js";
import { stableId } from "./ids.js";

export type RedactionTerm = {
  id: string;
  term: string;
  speakerId?: string;
  createdAt: string;
  createdBy: string;
};

/** A redaction term as every path takes it (speaker files, `redactions add`): one clean line. */
export const redactionTermText = cleanText("line")
  .trim()
  .min(2, "a redaction term needs at least 2 characters");

const INVISIBLE = /[\u00AD\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;
const TATWEEL = /\u0640/g;
const ARABIC_VARIANTS: Record<string, string> = {
  أ: "ا",
  إ: "ا",
  آ: "ا",
  ٱ: "ا",
  ى: "ي",
  ئ: "ي",
  ؤ: "و",
  ة: "ه",
  ک: "ك",
  ی: "ي",
};

/**
 * The form both terms and texts are compared in, so spelling games do not slip a name through:
 * case, diacritics (Latin and Arabic harakat), zero-width and direction characters, tatweel,
 * Arabic letter variants, punctuation and repeated spaces.
 */
export function normaliseForRedaction(text: string): string {
  // Plain ASCII has no marks, invisible characters or Arabic letters and NFKD leaves it as it is:
  // only case and punctuation remain to fold (most texts, and this runs on every render).
  if (!NON_ASCII.test(text)) return text.toLowerCase().replace(NOT_ASCII_WORD, " ").trim();
  const folded = text
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .replace(INVISIBLE, "")
    .replace(TATWEEL, "")
    .replace(/[أإآٱىئؤةکی]/g, (c) => ARABIC_VARIANTS[c] ?? c)
    .toLowerCase()
    .replace(NOT_WORD, " ")
    .trim();
  return folded;
}
/** Any UTF-16 code unit above 0x7f (surrogates included). */
const NON_ASCII = /[\u0080-\uffff]/;
const NOT_WORD = /[^\p{L}\p{N}]+/gu;
/** The same as NOT_WORD on lower-cased ASCII: its only letters and digits are a-z and 0-9. */
const NOT_ASCII_WORD = /[^a-z0-9]+/g;

export const redactionTermId = (term: string, speakerId?: string) =>
  stableId("r", normaliseForRedaction(term), speakerId ?? "*");

/** The first term found in any of the texts, matched on whole words after normalisation; never the term itself in errors. */
export function findRedactionHit(
  texts: string[],
  terms: Pick<RedactionTerm, "id" | "term">[],
): { termId: string } | undefined {
  if (terms.length === 0) return undefined;
  const haystack = ` ${texts.map(normaliseForRedaction).join(" \u0000 ")} `;
  for (const t of terms) {
    const needle = normaliseForRedaction(t.term);
    if (needle && haystack.includes(` ${needle} `)) return { termId: t.id };
  }
  return undefined;
}
