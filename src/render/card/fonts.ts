import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
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

// What needs no glyph of its own: whitespace, controls and format characters (ZWJ, isolates, marks
// of direction), variation selectors.
const NO_GLYPH = /^(?:[\s\p{Cc}\p{Cf}]|\p{Variation_Selector})$/u;

/**
 * The first character that no shipped font has (fontconfig knows only assets/fonts, so Pango would
 * draw a box with its hex code): "U+E000 is in no shipped font". Null when every character has a glyph.
 */
export function missingGlyph(texts: string[]): string | null {
  const fonts = [face("latin", "regular").metrics, face("arabic", "regular").metrics];
  for (const text of texts) {
    for (const ch of text) {
      if (NO_GLYPH.test(ch)) continue;
      const cp = ch.codePointAt(0)!;
      if (fonts.some((f) => f.advance(cp) !== undefined)) continue;
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

/**
 * `fontfile` only ADDS our fonts to fontconfig: a host font with the same family name (another Noto
 * Sans version, say) can still win the match, and the host's fontconfig rules change hinting. So
 * fontconfig is started once with a config that knows only assets/fonts; FONTCONFIG_FILE is read at
 * that moment and restored right after, so child processes keep the host's fonts. Call before any
 * sharp text or SVG work in the process (rsvg shares the same fontconfig).
 */
export function ensureFonts(): Promise<void> {
  ready ??= (async () => {
    const conf = [
      '<?xml version="1.0"?>',
      '<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">',
      `<fontconfig><dir>${FONTS_DIR.replace(/&/g, "&amp;").replace(/</g, "&lt;")}</dir></fontconfig>`,
      "",
    ].join("\n");
    const dir = path.join(tmpdir(), "testimony-fontconfig");
    const confFile = path.join(dir, `${createHash("sha256").update(conf).digest("hex").slice(0, 16)}.conf`);
    const previous = process.env.FONTCONFIG_FILE;
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(confFile, conf);
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
