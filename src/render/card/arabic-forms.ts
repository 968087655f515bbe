/**
 * Arabic letters take a different glyph (isolated, final, initial, medial) depending on their
 * neighbours, and the widths differ a lot. HarfBuzz does the real shaping when Pango renders; this
 * only maps letters to their Presentation Forms-B code points so the size estimate can read
 * contextual widths from the font's cmap.
 */

// Number of presentation forms per letter, in code point order from U+0621 (hamza) to U+063A and
// from U+0641 to U+064A; they are laid out consecutively from U+FE80. 4 = dual-joining, 2 = joins
// only to the letter before it, 1 = never joins.
const COUNTS: [number, number[]][] = [
  [0x0621, [1, 2, 2, 2, 2, 4, 2, 4, 2, 4, 4, 4, 4, 4, 2, 2, 2, 2, 4, 4, 4, 4, 4, 4, 4, 4]],
  [0x0641, [4, 4, 4, 4, 4, 4, 4, 2, 2, 4]],
];

const FORMS = new Map<number, { first: number; count: number }>();
let next = 0xfe80;
for (const [start, counts] of COUNTS) {
  counts.forEach((count, i) => {
    FORMS.set(start + i, { first: next, count });
    next += count;
  });
}

const LAM = 0x0644;
const TATWEEL = 0x0640;
/** Lam followed by one of these alefs becomes one ligature glyph, from U+FEF5 (isolated, final). */
const LAM_ALEF = new Map([
  [0x0622, 0xfef5],
  [0x0623, 0xfef7],
  [0x0625, 0xfef9],
  [0x0627, 0xfefb],
]);

/** Harakat and other marks sit on a letter without breaking the join. */
const isTransparent = (cp: number) => (cp >= 0x064b && cp <= 0x065f) || cp === 0x0670;
const joinsForward = (cp: number | undefined) =>
  cp !== undefined && (cp === TATWEEL || FORMS.get(cp)?.count === 4);
const joinsBackward = (cp: number | undefined) =>
  cp !== undefined && (cp === TATWEEL || (FORMS.get(cp)?.count ?? 1) >= 2);

/** The code points to measure for `word`: letters replaced by their contextual presentation form. */
export function contextualForms(codePoints: number[]): number[] {
  const letters = codePoints.map((cp, i) => ({ cp, i })).filter(({ cp }) => !isTransparent(cp));
  const out = codePoints.slice();
  for (let k = 0; k < letters.length; k++) {
    const { cp, i } = letters[k]!;
    const forms = FORMS.get(cp);
    const before = letters[k - 1]?.cp;
    const after = letters[k + 1]?.cp;
    const joinedBefore = joinsForward(before) && joinsBackward(cp);
    if (cp === LAM && after !== undefined && LAM_ALEF.has(after)) {
      out[i] = LAM_ALEF.get(after)! + (joinedBefore ? 1 : 0);
      out[letters[k + 1]!.i] = 0x200b; // the alef is part of the ligature: measure it as zero width
      k++;
      continue;
    }
    if (!forms) continue;
    const joinedAfter = forms.count === 4 && joinsBackward(after);
    const form = joinedBefore ? (joinedAfter ? 3 : 1) : joinedAfter ? 2 : 0;
    out[i] = forms.first + Math.min(form, forms.count - 1);
  }
  return out;
}

export const hasArabic = (text: string) => /[\u0600-\u06ff]/.test(text);
