import { readFileSync } from "node:fs";

/**
 * The few TrueType numbers the size estimate needs: advance widths and vertical extents per code
 * point, and the line metrics. Read straight from the shipped .ttf (head, hhea, hmtx, loca, glyf, cmap
 * format 4 or 12), so choosing a font size costs microseconds instead of a Pango layout per
 * candidate size. A colour bitmap font (Noto Color Emoji: CBDT, no glyf) gets the font's ascender
 * and descender as every glyph's extent, which is what its bitmaps fill.
 */
export type FontMetrics = {
  unitsPerEm: number;
  ascender: number;
  /** Positive distance below the baseline, in font units. */
  descender: number;
  /** Advance width in font units, or undefined when the font has no glyph for the code point. */
  advance(codePoint: number): number | undefined;
  /** Highest and lowest points of the glyph's outline, in font units above the baseline. */
  extent(codePoint: number): { yMax: number; yMin: number } | undefined;
};

type Glyph = { advance: number; yMax: number; yMin: number };

function tableOffsets(buf: Buffer): Map<string, number> {
  const tables = new Map<string, number>();
  const count = buf.readUInt16BE(4);
  for (let i = 0; i < count; i++) {
    const record = 12 + i * 16;
    tables.set(buf.toString("latin1", record, record + 4), buf.readUInt32BE(record + 8));
  }
  return tables;
}

function need(tables: Map<string, number>, tag: string, file: string): number {
  const offset = tables.get(tag);
  if (offset === undefined) throw new Error(`font ${file} has no ${tag} table`);
  return offset;
}

/**
 * The font's Unicode cmap: format 12 (every plane; emoji live above the BMP) when the font has one,
 * else format 4 (the BMP), which is all the text fonts carry.
 */
function readCmap(buf: Buffer, cmap: number, file: string): Map<number, number> {
  const subtables = buf.readUInt16BE(cmap + 2);
  let sub4 = -1;
  let sub12 = -1;
  for (let i = 0; i < subtables; i++) {
    const record = cmap + 4 + i * 8;
    const platform = buf.readUInt16BE(record);
    const encoding = buf.readUInt16BE(record + 2);
    const offset = cmap + buf.readUInt32BE(record + 4);
    const unicode = platform === 0 || (platform === 3 && (encoding === 1 || encoding === 10));
    if (!unicode) continue;
    const format = buf.readUInt16BE(offset);
    if (format === 4) sub4 = offset;
    if (format === 12) sub12 = offset;
  }
  if (sub12 >= 0) return readCmap12(buf, sub12);
  if (sub4 < 0) throw new Error(`font ${file} has no Unicode cmap of format 4 or 12`);
  return readCmap4(buf, sub4);
}

function readCmap12(buf: Buffer, sub: number): Map<number, number> {
  const groups = buf.readUInt32BE(sub + 12);
  const glyphs = new Map<number, number>();
  for (let g = 0; g < groups; g++) {
    const at = sub + 16 + g * 12;
    const start = buf.readUInt32BE(at);
    const end = buf.readUInt32BE(at + 4);
    const first = buf.readUInt32BE(at + 8);
    for (let c = start; c <= end; c++) if (first + c - start !== 0) glyphs.set(c, first + c - start);
  }
  return glyphs;
}

function readCmap4(buf: Buffer, sub: number): Map<number, number> {
  const segments = buf.readUInt16BE(sub + 6) / 2;
  const ends = sub + 14;
  const starts = ends + segments * 2 + 2;
  const deltas = starts + segments * 2;
  const rangeOffsets = deltas + segments * 2;
  const glyphs = new Map<number, number>();
  for (let s = 0; s < segments; s++) {
    const end = buf.readUInt16BE(ends + s * 2);
    const start = buf.readUInt16BE(starts + s * 2);
    const delta = buf.readInt16BE(deltas + s * 2);
    const rangeAt = rangeOffsets + s * 2;
    const range = buf.readUInt16BE(rangeAt);
    for (let c = start; c <= end && c !== 0xffff; c++) {
      let glyph: number;
      if (range === 0) glyph = (c + delta) & 0xffff;
      else {
        const raw = buf.readUInt16BE(rangeAt + range + (c - start) * 2);
        glyph = raw === 0 ? 0 : (raw + delta) & 0xffff;
      }
      if (glyph !== 0) glyphs.set(c, glyph);
    }
  }
  return glyphs;
}

export function loadFontMetrics(file: string): FontMetrics {
  const buf = readFileSync(file);
  const tables = tableOffsets(buf);
  const head = need(tables, "head", file);
  const hhea = need(tables, "hhea", file);
  const hmtx = need(tables, "hmtx", file);
  const ascender = buf.readInt16BE(hhea + 4);
  const descender = -buf.readInt16BE(hhea + 6);
  const loca = tables.get("loca");
  const glyf = tables.get("glyf");
  const outlines = loca !== undefined && glyf !== undefined;
  if (!outlines && !tables.has("CBDT")) throw new Error(`font ${file} has neither glyf nor CBDT table`);
  const longLoca = buf.readInt16BE(head + 50) === 1;
  const longMetrics = buf.readUInt16BE(hhea + 34);
  const glyphOffset = (index: number) =>
    longLoca ? buf.readUInt32BE(loca! + index * 4) : buf.readUInt16BE(loca! + index * 2) * 2;
  const byCodePoint = new Map<number, Glyph>();
  for (const [codePoint, glyph] of readCmap(buf, need(tables, "cmap", file), file)) {
    const advance = buf.readUInt16BE(hmtx + Math.min(glyph, longMetrics - 1) * 4);
    if (!outlines) {
      byCodePoint.set(codePoint, { advance, yMax: ascender, yMin: -descender });
      continue;
    }
    const start = glyphOffset(glyph);
    // An empty glyph (a space) has no outline and no header.
    const empty = glyphOffset(glyph + 1) === start;
    const yMin = empty ? 0 : buf.readInt16BE(glyf! + start + 4);
    const yMax = empty ? 0 : buf.readInt16BE(glyf! + start + 8);
    byCodePoint.set(codePoint, { advance, yMin, yMax });
  }
  return {
    unitsPerEm: buf.readUInt16BE(head + 18),
    ascender,
    descender,
    advance: (codePoint) => byCodePoint.get(codePoint)?.advance,
    extent: (codePoint) => byCodePoint.get(codePoint),
  };
}
