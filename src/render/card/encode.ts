import sharp from "sharp";
import type { Encoding } from "../../domain/campaign.js";
import { type Canvas, rowBytes } from "./blend.js";
import { PNG_LEVEL, writePng } from "./png.js";

/**
 * sharp writes no metadata unless asked (withMetadata/keepMetadata), which is what cards need; the
 * PNG writer (png.ts) writes none either. PNG: zlib level 3, filter "none" (`png` below is the same
 * setting in sharp's terms, for the bench's peers). JPEG keeps full-resolution colour (4:4:4), as
 * subsampling smears coloured text edges; Huffman optimisation would make it ~7% smaller for three
 * times the time.
 */
export const ENCODE_OPTIONS = {
  png: { compressionLevel: PNG_LEVEL, adaptiveFiltering: false },
  jpeg: { quality: 90, chromaSubsampling: "4:4:4", optimiseCoding: false },
  webp: { quality: 90, effort: 2, smartSubsample: true },
} as const;

export function encode(canvas: Canvas, encoding: Encoding): Promise<Buffer> {
  if (encoding === "png") return writePng(canvas);
  const image = () =>
    sharp(packedRgb(canvas), { raw: { width: canvas.width, height: canvas.height, channels: 3 } });
  switch (encoding) {
    case "jpeg":
      return image().jpeg(ENCODE_OPTIONS.jpeg).toBuffer();
    case "webp":
      return image().webp(ENCODE_OPTIONS.webp).toBuffer();
    default:
      return Promise.reject(new Error(`unknown encoding ${JSON.stringify(encoding)}`));
  }
}

/** The canvas's pixels without the PNG filter byte that starts each row, as sharp reads raw RGB. */
export function packedRgb(canvas: Canvas): Buffer {
  const row = canvas.width * 3;
  const out = Buffer.allocUnsafe(row * canvas.height);
  const stride = rowBytes(canvas.width);
  for (let y = 0; y < canvas.height; y++) canvas.data.copy(out, y * row, y * stride + 1, (y + 1) * stride);
  return out;
}
