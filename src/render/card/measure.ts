import { contextualForms } from "./arabic-forms.js";
import { emojiMetrics, type Face, hasEmoji } from "./fonts.js";

/**
 * A cheap model of Pango's greedy word wrap, from the fonts' advance widths. It ignores kerning and
 * only approximates Arabic shaping, so it is an estimate: fit.ts verifies every size it picks by
 * rendering, and corrects the model with what the render shows.
 */

type Word = {
  /** Advances of the word's glyphs in font units; Pango rounds each to whole pixels (hinted metrics). */
  advances: Float64Array;
  /** Advances of the spaces after it, which hang past the line end instead of counting. */
  trailing: Float64Array;
  /** Vertical extent of its glyphs, in font units from the baseline. */
  yMax: number;
  yMin: number;
};
export type Prepared = { face: Face; paragraphs: Word[][] };

/** Format characters (direction marks, isolates) and combining marks take no width of their own. */
const ZERO_WIDTH: [number, number][] = [
  [0x0300, 0x036f],
  [0x064b, 0x065f],
  [0x0670, 0x0670],
  [0x200b, 0x200f],
  [0x202a, 0x202e],
  [0x2066, 0x2069],
];
const isZeroWidth = (cp: number) => ZERO_WIDTH.some(([from, to]) => cp >= from && cp <= to);
const SPACE = /[ \u00a0\u2000-\u200a\u3000]/u;

type Glyph = { advance: number; yMax: number; yMin: number };

const glyphCache = new WeakMap<Face, Map<number, Glyph>>();

function glyphOf(face: Face, cp: number): Glyph {
  let cache = glyphCache.get(face);
  if (!cache) {
    cache = new Map();
    glyphCache.set(face, cache);
  }
  let glyph = cache.get(cp);
  if (!glyph) {
    glyph = lookUp(face, cp);
    cache.set(cp, glyph);
  }
  return glyph;
}

function lookUp(face: Face, cp: number): Glyph {
  const em = face.metrics.unitsPerEm;
  if (SPACE.test(String.fromCodePoint(cp)))
    return { advance: face.metrics.advance(0x20) ?? em / 4, yMax: 0, yMin: 0 };
  const own = face.metrics.extent(cp);
  if (own) return { advance: face.metrics.advance(cp)!, yMax: own.yMax, yMin: own.yMin };
  const fallback = face.fallback?.extent(cp);
  if (fallback) {
    const k = em / face.fallback!.unitsPerEm;
    return { advance: face.fallback!.advance(cp)! * k, yMax: fallback.yMax * k, yMin: fallback.yMin * k };
  }
  if (isZeroWidth(cp)) return { advance: 0, yMax: 0, yMin: 0 };
  // A code point neither font has is drawn as a missing-glyph box about this size.
  return { advance: em * 0.6, yMax: em * 0.75, yMin: 0 };
}

/**
 * An emoji drawn from Noto Color Emoji, in the face's units: one advance for a whole cluster (a
 * skin-tone modifier, a ZWJ family, a flag, a keycap are one glyph), about 1.25 em wide, and the
 * bitmap's height (ascender to descender, about 1.17 em) once scaled to the text's size.
 */
function emojiGlyph(face: Face, cp: number): Glyph | undefined {
  const e = emojiMetrics();
  const advance = e.advance(cp);
  if (advance === undefined) return undefined;
  const k = face.metrics.unitsPerEm / e.unitsPerEm;
  return { advance: advance * k, yMax: e.ascender * k, yMin: -e.descender * k };
}

const EMOJI_CLUSTER = /[\p{Extended_Pictographic}\p{Regional_Indicator}]|\u20e3|\ufe0f/u;
/** Emoji presentation asked for, or a sequence (modifier, ZWJ, flag, keycap): Pango uses the emoji font. */
const EMOJI_SEQUENCE = /[\p{Emoji_Modifier}\p{Regional_Indicator}]|\u200d|\u20e3|\ufe0f/u;
const graphemes = new Intl.Segmenter("en", { granularity: "grapheme" });

/**
 * Code points to measure, one per glyph Pango will draw for an emoji cluster: the cluster's first
 * code point, flagged, stands for the whole sequence. Other characters pass through one by one.
 */
function clusters(face: Face, chars: string): { cps: number[]; emoji: boolean[] } {
  const inText = (cp: number) =>
    face.metrics.advance(cp) !== undefined || face.fallback?.advance(cp) !== undefined;
  const cps: number[] = [];
  const emoji: boolean[] = [];
  if (!hasEmoji(chars)) {
    for (const c of chars) {
      cps.push(c.codePointAt(0)!);
      emoji.push(false);
    }
    return { cps, emoji };
  }
  for (const { segment } of graphemes.segment(chars)) {
    const first = segment.codePointAt(0)!;
    const drawnAsEmoji = EMOJI_CLUSTER.test(segment) && (!inText(first) || EMOJI_SEQUENCE.test(segment));
    if (drawnAsEmoji && emojiMetrics().advance(first) !== undefined) {
      cps.push(first);
      emoji.push(true);
      continue;
    }
    for (const c of segment) {
      cps.push(c.codePointAt(0)!);
      emoji.push(false);
    }
  }
  return { cps, emoji };
}

/**
 * Break opportunities: after spaces, and after hyphens and dashes (UAX #14 classes BA, B2, HY).
 * No-break spaces (U+00A0, U+2007, U+202F) glue their neighbours, as in Pango.
 */
function splitWords(paragraph: string): { word: string; spaces: string }[] {
  const out: { word: string; spaces: string }[] = [];
  const re =
    /([^ \u1680\u2000-\u2006\u2008-\u200a\u205f\u3000\-\u2010\u2013\u2014]*[-\u2010\u2013\u2014]*)([ \u1680\u2000-\u2006\u2008-\u200a\u205f\u3000]*)/gu;
  for (const m of paragraph.matchAll(re)) {
    if (m[0] === "") break;
    out.push({ word: m[1] ?? "", spaces: m[2] ?? "" });
  }
  return out;
}

export function prepare(text: string, face: Face): Prepared {
  const glyphs = (chars: string) => {
    const { cps, emoji } = clusters(face, chars);
    return (face.fallback ? contextualForms(cps) : cps).map((cp, i) =>
      emoji[i] ? (emojiGlyph(face, cp) ?? glyphOf(face, cp)) : glyphOf(face, cp),
    );
  };
  const toWord = ({ word, spaces }: { word: string; spaces: string }): Word => {
    const g = glyphs(word);
    return {
      advances: Float64Array.from(g, (x) => x.advance),
      trailing: Float64Array.from(glyphs(spaces), (x) => x.advance),
      yMax: g.reduce((m, x) => Math.max(m, x.yMax), 0),
      yMin: g.reduce((m, x) => Math.min(m, x.yMin), 0),
    };
  };
  return { face, paragraphs: text.split("\n").map((p) => splitWords(p).map(toWord)) };
}

const sumPx = (advances: Float64Array, scale: number) => {
  let px = 0;
  for (const a of advances) px += Math.round(a * scale);
  return px;
};

export type Wrapped = {
  lines: number;
  /** Some single word is wider than the box. */
  overflow: boolean;
  /** Highest ink of the first line and lowest of the last, in font units from their baselines. */
  firstTop: number;
  lastBottom: number;
};

/**
 * How Pango will wrap the text at `size` within `width`. `widthFactor` scales the model's widths,
 * when a render has shown it to be off for this text.
 */
export function wrap(p: Prepared, size: number, width: number, widthFactor = 1): Wrapped {
  const scale = size / p.face.metrics.unitsPerEm;
  let lines = 0;
  let overflow = false;
  let firstTop = 0;
  let lastBottom = 0;
  for (const words of p.paragraphs) {
    lines++;
    lastBottom = 0;
    let lineWidth = 0;
    let pendingSpace = 0;
    let empty = true;
    for (const w of words) {
      const wordWidth = sumPx(w.advances, scale) * widthFactor;
      if (!empty && lineWidth + pendingSpace + wordWidth > width) {
        lines++;
        lineWidth = 0;
        lastBottom = 0;
        empty = true;
      }
      lineWidth += (empty ? 0 : pendingSpace) + wordWidth;
      if (wordWidth > width) overflow = true;
      if (wordWidth > 0) empty = false;
      if (lines === 1) firstTop = Math.max(firstTop, w.yMax);
      lastBottom = Math.min(lastBottom, w.yMin);
      pendingSpace = sumPx(w.trailing, scale) * widthFactor;
    }
  }
  return { lines, overflow, firstTop, lastBottom };
}
