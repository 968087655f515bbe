import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { FONTS_DIR } from "../../paths.js";
import { type FontMetrics, loadFontMetrics } from "./font-metrics.js";

export type Script = "latin" | "arabic";
export type Weight = "regular" | "bold";

export type Face = {
  /** Pango family list: the script's font first, Noto Sans after it for Latin letters, digits, '#'. */
  families: string;
  weight: Weight;
  file: string;
  /** Line metrics of the first family, which sets the line height. */
  metrics: FontMetrics;
  /** Metrics of the fallback, for code points the first family lacks. */
  fallback?: FontMetrics;
};

const file = (name: string) => path.join(FONTS_DIR, name);
const FILES: Record<Script, Record<Weight, string>> = {
  latin: { regular: file("NotoSans-Regular.ttf"), bold: file("NotoSans-Bold.ttf") },
  arabic: { regular: file("NotoNaskhArabic-Regular.ttf"), bold: file("NotoNaskhArabic-Bold.ttf") },
};
const FAMILIES: Record<Script, string> = { latin: "Noto Sans", arabic: "Noto Naskh Arabic,Noto Sans" };
/**
 * Colour emoji: a CBDT bitmap font (136×128 px bitmaps at 109 ppem). Pango reaches it by fontconfig
 * fallback for code points the text fonts lack, and the bitmap-scaling rule in ensureFonts() scales
 * its bitmaps to the text's size. Only the RGBA text path (text-layer.ts) keeps its colours.
 */
export const EMOJI_FONT = file("NotoColorEmoji.ttf");

let emoji: FontMetrics | undefined;
/** Loaded on first need: the file is 11 MB, and most cards have no emoji. */
export function emojiMetrics(): FontMetrics {
  emoji ??= loadFontMetrics(EMOJI_FONT);
  return emoji;
}

const faces = new Map<string, Face>();

export function face(script: Script, weight: Weight): Face {
  const key = `${script}/${weight}`;
  let found = faces.get(key);
  if (!found) {
    const fontFile = FILES[script][weight];
    found = {
      families: FAMILIES[script],
      weight,
      file: fontFile,
      metrics: loadFontMetrics(fontFile),
      fallback: script === "latin" ? undefined : face("latin", weight).metrics,
    };
    faces.set(key, found);
  }
  return found;
}

const EMOJI_CANDIDATE = /[\p{Extended_Pictographic}\p{Regional_Indicator}\p{Emoji_Modifier}]|\u20e3|\ufe0f/gu;

/**
 * Whether Pango will draw an emoji in this text: a pictograph the text fonts lack (a © or ™ comes
 * from Noto Sans, in the text's colour), a flag, a skin tone, a keycap, or emoji presentation asked
 * for (U+FE0F). Only such text takes the RGBA path and the measure's grapheme clusters.
 */
export function hasEmoji(text: string): boolean {
  EMOJI_CANDIDATE.lastIndex = 0;
  if (!EMOJI_CANDIDATE.test(text)) return false;
  const latin = face("latin", "regular").metrics;
  const arabic = face("arabic", "regular").metrics;
  for (const [ch] of text.matchAll(EMOJI_CANDIDATE)) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0xfe0f || cp === 0x20e3) return true;
    if (latin.advance(cp) === undefined && arabic.advance(cp) === undefined) return true;
  }
  return false;
}

// What needs no glyph of its own: whitespace, controls and format characters (ZWJ, isolates, marks
// of direction), variation selectors.
const NO_GLYPH = /^(?:[\s\p{Cc}\p{Cf}]|\p{Variation_Selector})$/u;

/**
 * The first character that no shipped font has (fontconfig knows only assets/fonts, so Pango would
 * draw a box with its hex code): "U+E000 is in no shipped font". Null when every character has a
 * glyph. Emoji (skin-tone modifiers and ZWJ parts included) are in Noto Color Emoji.
 */
export function missingGlyph(texts: string[]): string | null {
  const fonts = [face("latin", "regular").metrics, face("arabic", "regular").metrics];
  for (const text of texts) {
    for (const ch of text) {
      if (NO_GLYPH.test(ch)) continue;
      const cp = ch.codePointAt(0)!;
      if (fonts.some((f) => f.advance(cp) !== undefined)) continue;
      if (emojiMetrics().advance(cp) !== undefined) continue;
      const hex = `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
      return `${hex} is in no shipped font (it would print as a box)`;
    }
  }
  return null;
}

/** Pango font description; sharp renders at 72 dpi, so the size in points is the size in pixels. */
export const fontDescription = (f: Face, size: number) =>
  `${f.families}${f.weight === "bold" ? " Bold" : ""} ${size}`;

/** Pango's line height at this size: it rounds ascent and descent up to whole pixels separately. */
export function lineHeight(f: Face, size: number): number {
  const scale = size / f.metrics.unitsPerEm;
  return Math.ceil(f.metrics.ascender * scale) + Math.ceil(f.metrics.descender * scale);
}

export const scriptOf = (direction: "ltr" | "rtl"): Script => (direction === "rtl" ? "arabic" : "latin");

let ready: Promise<void> | undefined;

function sameContent(file: string, content: string): boolean {
  try {
    return readFileSync(file, "utf8") === content;
  } catch {
    return false;
  }
}

/**
 * fontconfig's bitmap-scaling rule (the host's 10-scale-bitmap-fonts.conf, minus its part for
 * monochrome bitmap fonts, which we do not ship): a font without outlines (Noto Color Emoji's
 * bitmaps are 109 ppem) is scaled by requested / available pixel size. Without it an emoji in 42 px
 * text is drawn at 109 px, about 2.5 times too large. Outline fonts (Noto Sans, Naskh) are untouched.
 */
const SCALE_BITMAP_FONTS = `<match target="font">
  <test name="outline" compare="eq"><bool>false</bool></test>
  <edit name="pixelsizefixupfactor" mode="assign">
    <divide><name target="pattern">pixelsize</name><name target="font">pixelsize</name></divide>
  </edit>
</match>
<match target="font">
  <test name="outline" compare="eq"><bool>false</bool></test>
  <test name="pixelsizefixupfactor" compare="not_eq"><double>1.0</double></test>
  <edit name="matrix" mode="assign">
    <times><name>matrix</name>
      <matrix><name>pixelsizefixupfactor</name><double>0</double><double>0</double><name>pixelsizefixupfactor</name></matrix>
    </times>
  </edit>
  <edit name="size" mode="assign"><divide><name>size</name><name>pixelsizefixupfactor</name></divide></edit>
</match>`;

/** The whole fontconfig configuration of the process: our fonts and the bitmap-scaling rule. */
export const FONTCONFIG_XML = [
  '<?xml version="1.0"?>',
  '<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">',
  "<fontconfig>",
  `<dir>${FONTS_DIR.replace(/&/g, "&amp;").replace(/</g, "&lt;")}</dir>`,
  SCALE_BITMAP_FONTS,
  "</fontconfig>",
  "",
].join("\n");

/**
 * `fontfile` only ADDS our fonts to fontconfig: a host font with the same family name (another Noto
 * Sans version, say) can still win the match, and the host's fontconfig rules change hinting. So
 * fontconfig is started once with a config that knows only assets/fonts (and scales bitmap emoji);
 * FONTCONFIG_FILE is read at that moment and restored right after, so child processes keep the
 * host's fonts. Call before any sharp text or SVG work in the process (rsvg shares the same fontconfig).
 */
export function ensureFonts(): Promise<void> {
  ready ??= (async () => {
    const conf = FONTCONFIG_XML;
    const dir = path.join(tmpdir(), "testimony-fontconfig");
    const confFile = path.join(dir, `${createHash("sha256").update(conf).digest("hex").slice(0, 16)}.conf`);
    const previous = process.env.FONTCONFIG_FILE;
    try {
      mkdirSync(dir, { recursive: true });
      // Processes starting together share this file: one writing it in place while another's
      // fontconfig reads it would give the reader a truncated config, and so the host's fonts.
      if (!sameContent(confFile, conf)) {
        const temporary = `${confFile}.${process.pid}.${Date.now()}.tmp`;
        writeFileSync(temporary, conf);
        renameSync(temporary, confFile);
      }
      process.env.FONTCONFIG_FILE = confFile;
    } catch {
      // No writable temp directory: carry on with the host's fontconfig plus `fontfile`.
    }
    try {
      await sharp({ text: { text: "x", font: "Noto Sans 8", fontfile: FILES.latin.regular } })
        .raw()
        .toBuffer();
    } finally {
      if (previous === undefined) delete process.env.FONTCONFIG_FILE;
      else process.env.FONTCONFIG_FILE = previous;
    }
  })();
  return ready;
}
