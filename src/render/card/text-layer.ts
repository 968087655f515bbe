import sharp from "sharp";
import { type Face, fontDescription } from "./fonts.js";

/** Coverage of rendered text (one byte per pixel, 255 = ink), cropped by libvips to the ink's box. */
export type TextMask = { data: Buffer; width: number; height: number };

export type TextSpec = {
  markup: string;
  face: Face;
  size: number;
  /** Wrap width in pixels. */
  width: number;
};

/**
 * A one-band mask rather than RGBA: it is cheaper for libvips to produce (no unpremultiply pass),
 * and colour is applied when it is blended onto the card.
 */
export async function renderText(spec: TextSpec): Promise<TextMask> {
  const { data, info } = await sharp({
    text: {
      text: spec.markup,
      font: fontDescription(spec.face, spec.size),
      fontfile: spec.face.file,
      width: spec.width,
      // Pango swaps left and right for right-to-left paragraphs (auto-dir), so "left" means "the
      // side the line starts on": Arabic lines come out right-aligned, Latin ones left-aligned.
      align: "left",
      wrap: "word",
      dpi: 72,
    },
  })
    // libvips tags the mask "multiband"; without this sharp would expand it to three sRGB bands.
    .toColourspace("b-w")
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 1) throw new Error(`expected a one-band text mask, got ${info.channels} bands`);
  return { data, width: info.width, height: info.height };
}

const CACHE_SIZE = 64;
const cache = new Map<string, Promise<TextMask>>();

/** For the short lines that repeat across cards (attributions, the quotation mark). */
export function renderTextCached(spec: TextSpec): Promise<TextMask> {
  const key = JSON.stringify([spec.markup, spec.face.file, spec.face.families, spec.size, spec.width]);
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const rendered = renderText(spec);
  rendered.catch(() => cache.delete(key));
  cache.set(key, rendered);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return rendered;
}
