import sharp from "sharp";
import { CardError } from "./card-error.js";
import { ensureFonts } from "./fonts.js";

const MAX_SIDE = 512;
const ACCEPTED = new Set(["png", "jpeg", "webp", "svg"]);
/** A logo has no business being bigger than this before it is scaled down (decompression bombs). */
const MAX_INPUT_PIXELS = 40_000_000;

/**
 * An uploaded logo as the PNG that cards use: at most 512×512 (fit inside), sRGB, oriented, and
 * with no metadata at all (EXIF, XMP, ICC, comments): uploads must not carry camera data, authors'
 * names or locations into published cards. Anything but PNG, JPEG, WebP or SVG is refused.
 */
export async function normaliseBrandImage(bytes: Buffer): Promise<Buffer> {
  if (!Buffer.isBuffer(bytes) || bytes.length === 0) throw new CardError("bad_brand", "brand image is empty");
  await ensureFonts();
  let format: string | undefined;
  let width = 0;
  let height = 0;
  try {
    ({
      format,
      width = 0,
      height = 0,
    } = await sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS }).metadata());
  } catch (error) {
    throw new CardError("bad_brand", `brand image is not a readable image: ${(error as Error).message}`);
  }
  if (!format || !ACCEPTED.has(format)) {
    throw new CardError(
      "bad_brand",
      `brand image must be PNG, JPEG, WebP or SVG, got ${format ?? "unknown"}`,
    );
  }
  if (format === "svg") checkSvg(bytes);
  // SVG is drawn at the density that makes its longer side 512 px, so it is sharp rather than upscaled.
  const density =
    format === "svg" && width > 0 && height > 0
      ? Math.min(2400, Math.max(1, (72 * MAX_SIDE) / Math.max(width, height)))
      : undefined;
  try {
    return await sharp(bytes, { density, limitInputPixels: MAX_INPUT_PIXELS })
      .autoOrient() // apply the EXIF orientation before the EXIF goes
      .resize(MAX_SIDE, MAX_SIDE, { fit: "inside", withoutEnlargement: true })
      .toColourspace("srgb")
      .png()
      .toBuffer();
  } catch (error) {
    throw new CardError("bad_brand", `brand image cannot be decoded: ${(error as Error).message}`);
  }
}

/**
 * librsvg refuses files outside an SVG's own directory, and a buffer has none; this also refuses
 * anything that tries, so a logo can never pull in a file or a URL, nor define XML entities.
 */
function checkSvg(bytes: Buffer) {
  const text = bytes.toString("utf8");
  if (/<!ENTITY/i.test(text)) throw new CardError("bad_brand", "brand SVG must not define XML entities");
  for (const m of text.matchAll(/(?:href|src)\s*=\s*["']\s*([^"']*)/gi)) {
    const target = m[1]!.trim();
    if (!target.startsWith("#") && !/^data:image\//i.test(target)) {
      throw new CardError("bad_brand", "brand SVG must not reference external files or URLs");
    }
  }
  if (/url\(\s*["']?\s*(?!#)[^)]/i.test(text)) {
    throw new CardError("bad_brand", "brand SVG must not reference external files or URLs");
  }
}
