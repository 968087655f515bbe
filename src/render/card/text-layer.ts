import sharp from "sharp";
import type { Rgb } from "./blend.js";
import { type Face, fontDescription, hasEmoji } from "./fonts.js";

/**
 * A rendered text layer, cropped by libvips to the ink's box. Usually coverage only (one byte per
 * pixel, 255 = ink), coloured when it is blended onto the card; text with emoji comes as straight
 * RGBA (`rgba`), already in its colour, so the emoji keep theirs.
 */
export type TextMask = { data: Buffer; width: number; height: number; rgba?: true };

export type TextSpec = {
  markup: string;
  face: Face;
  size: number;
  /** Wrap width in pixels. */
  width: number;
  /** The text's colour (black if not given): used only when the text has emoji (the RGBA path). */
  colour?: Rgb;
};

const hex = (rgb: Rgb) => `#${rgb.map((c) => c.toString(16).padStart(2, "0")).join("")}`;

/**
 * A one-band mask rather than RGBA when it can: it is cheaper for libvips to produce (no
 * unpremultiply pass) and to blend. With an emoji in the text, Pango draws RGBA (a one-band mask
 * would flatten the emoji's colours into coverage) and the text colour goes into the markup.
 */
export async function renderText(spec: TextSpec): Promise<TextMask> {
  const rgba = hasEmoji(spec.markup);
  const text = sharp({
    text: {
      text: rgba ? `<span foreground="${hex(spec.colour ?? [0, 0, 0])}">${spec.markup}</span>` : spec.markup,
      font: fontDescription(spec.face, spec.size),
      fontfile: spec.face.file,
      width: spec.width,
      // Pango swaps left and right for right-to-left paragraphs (auto-dir), so "left" means "the
      // side the line starts on": Arabic lines come out right-aligned, Latin ones left-aligned.
      align: "left",
      wrap: "word",
      dpi: 72,
      rgba,
    },
  });
  // libvips tags the mask "multiband"; without this sharp would expand it to three sRGB bands.
  const { data, info } = await (rgba ? text : text.toColourspace("b-w"))
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (rgba) {
    if (info.channels !== 4) throw new Error(`expected an RGBA text layer, got ${info.channels} bands`);
    return { data, width: info.width, height: info.height, rgba: true };
  }
  if (info.channels !== 1) throw new Error(`expected a one-band text mask, got ${info.channels} bands`);
  return { data, width: info.width, height: info.height };
}

const CACHE_SIZE = 64;
const cache = new Map<string, Promise<TextMask>>();

/** For the short lines that repeat across cards (attributions, the quotation mark). */
export function renderTextCached(spec: TextSpec): Promise<TextMask> {
  const key = JSON.stringify([
    spec.markup,
    spec.face.file,
    spec.face.families,
    spec.size,
    spec.width,
    hasEmoji(spec.markup) ? spec.colour : null,
  ]);
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
