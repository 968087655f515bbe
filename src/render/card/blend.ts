import type { TextMask } from "./text-layer.js";

/**
 * The card is assembled as raw RGB in a Buffer and encoded once. Blending a few masks here costs
 * a few milliseconds; libvips' composite converts every layer to a full-size float image first,
 * which measured three to ten times slower than this plus the encode (45 against 15 ms of CPU for a
 * story card's quote, 2026-12-06).
 *
 * Each row starts with one byte that is always 0, then `width` RGB pixels: that is a PNG scanline
 * with filter "none", so the PNG writer compresses the canvas as it is, without a copy.
 */
export type Canvas = {
  data: Buffer;
  width: number;
  height: number;
  /**
   * Where the canvas has been painted since it was handed out, as [left, top, right, bottom)
   * rectangles, four numbers each (acquireCanvas sets it; the paint functions below add to it), so
   * a recycled canvas is reset to its base by copying back only those: everything that writes
   * pixels into a canvas goes through these functions.
   */
  painted?: number[];
};
export type Rgb = readonly [number, number, number];

/** Bytes per canvas row: the PNG filter byte, then RGB. */
export const rowBytes = (width: number) => width * 3 + 1;
/** Byte offset of pixel (x, y). */
const at = (canvas: Canvas, x: number, y: number) => y * rowBytes(canvas.width) + 1 + x * 3;

/** Paints `rgb` through `mask` (coverage 0..255) at (left, top), scaled by `opacity`. */
export function paintMask(canvas: Canvas, mask: TextMask, left: number, top: number, rgb: Rgb, opacity = 1) {
  const [r, g, b] = rgb;
  const alphaScale = Math.round(opacity * 256);
  const out = canvas.data;
  const src = mask.data;
  // Most of a text mask is empty: where the buffer allows it, test four pixels with one read.
  const words =
    src.byteOffset % 4 === 0 ? new Uint32Array(src.buffer, src.byteOffset, src.length >> 2) : undefined;
  const x0 = Math.max(0, -left);
  const x1 = Math.min(mask.width, canvas.width - left);
  const y0 = Math.max(0, -top);
  const y1 = Math.min(mask.height, canvas.height - top);
  if (x1 <= x0 || y1 <= y0) return;
  canvas.painted?.push(left + x0, top + y0, left + x1, top + y1);
  for (let y = y0; y < y1; y++) {
    let s = y * mask.width + x0;
    const end = y * mask.width + x1;
    let d = at(canvas, left + x0, top + y);
    while (s < end) {
      if (words && (s & 3) === 0 && s + 4 <= end && words[s >> 2] === 0) {
        s += 4;
        d += 12;
        continue;
      }
      const coverage = src[s]!;
      if (coverage !== 0) {
        // a in 0..65280 (coverage * 256 * opacity); exact for opacity 1 and coverage 255.
        const a = coverage * alphaScale;
        if (a >= 65280) {
          out[d] = r;
          out[d + 1] = g;
          out[d + 2] = b;
        } else {
          // Storing into a Uint8Array truncates, so the + 32640 rounds.
          const keep = 65280 - a;
          out[d] = (out[d]! * keep + r * a + 32640) / 65280;
          out[d + 1] = (out[d + 1]! * keep + g * a + 32640) / 65280;
          out[d + 2] = (out[d + 2]! * keep + b * a + 32640) / 65280;
        }
      }
      s++;
      d += 3;
    }
  }
}

/**
 * A text layer at (left, top): a coverage mask painted in `rgb`, or an RGBA layer (text with emoji,
 * already in its colours), both scaled by `opacity`.
 */
export function paintLayer(
  canvas: Canvas,
  layer: TextMask,
  left: number,
  top: number,
  rgb: Rgb,
  opacity = 1,
) {
  if (layer.rgba) paintRgba(canvas, layer, left, top, opacity);
  else paintMask(canvas, layer, left, top, rgb, opacity);
}

/** Straight (not premultiplied) RGBA, as sharp's raw output gives it, over the canvas. */
export function paintRgba(canvas: Canvas, rgba: TextMask, left: number, top: number, opacity = 1) {
  const out = canvas.data;
  const alphaScale = Math.round(opacity * 256);
  canvas.painted?.push(
    Math.max(0, left),
    Math.max(0, top),
    Math.min(canvas.width, left + rgba.width),
    Math.min(canvas.height, top + rgba.height),
  );
  for (let y = 0; y < rgba.height; y++) {
    const cy = top + y;
    if (cy < 0 || cy >= canvas.height) continue;
    for (let x = 0; x < rgba.width; x++) {
      const cx = left + x;
      if (cx < 0 || cx >= canvas.width) continue;
      const s = (y * rgba.width + x) * 4;
      const a = alphaScale === 256 ? rgba.data[s + 3]! : (rgba.data[s + 3]! * alphaScale + 128) >> 8;
      if (a === 0) continue;
      const d = at(canvas, cx, cy);
      for (let c = 0; c < 3; c++) out[d + c] = (out[d + c]! * (255 - a) + rgba.data[s + c]! * a + 127) / 255;
    }
  }
}

export function fillRect(canvas: Canvas, left: number, top: number, width: number, height: number, rgb: Rgb) {
  const pattern = Buffer.from(rgb);
  const x0 = Math.max(0, left);
  const x1 = Math.min(canvas.width, left + width);
  const y0 = Math.max(0, top);
  const y1 = Math.min(canvas.height, top + height);
  if (x1 <= x0 || y1 <= y0) return;
  canvas.painted?.push(x0, y0, x1, y1);
  for (let y = y0; y < y1; y++) {
    canvas.data.fill(pattern, at(canvas, x0, y), at(canvas, x1, y));
  }
}

/** A mask flipped left to right (the quotation mark of right-to-left cards). */
export function mirrorMask(mask: TextMask): TextMask {
  const data = Buffer.alloc(mask.data.length);
  for (let y = 0; y < mask.height; y++) {
    const row = y * mask.width;
    for (let x = 0; x < mask.width; x++) data[row + x] = mask.data[row + mask.width - 1 - x]!;
  }
  return { data, width: mask.width, height: mask.height };
}
