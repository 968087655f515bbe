import { readCatalogues } from "../../src/http/i18n.js";

/**
 * English left on a page in another language: the words of en.json's values that ar.json does not
 * use too (brand and technical names such as WCAG, PNG or IANA appear in both), looked for in what a
 * reader meets (text outside code and form values, human-facing attributes, the script's words).
 */

/** Words of the English catalogue's values that the Arabic catalogue does not use too (brand and tech names). */
export function englishWords(): Set<string> {
  const catalogues = readCatalogues();
  const words = (c: unknown): string[] =>
    c && typeof c === "object"
      ? Object.entries(c as Record<string, unknown>).flatMap(([k, v]) => (k === "meta" ? [] : words(v)))
      : (String(c)
          .replace(/\{\{\s*\w+\s*\}\}/g, " ")
          .match(/[A-Za-z]{3,}/g) ?? []);
  const arabic = new Set(words(catalogues.get("ar")).map((w) => w.toLowerCase()));
  return new Set(
    words(catalogues.get("en"))
      .map((w) => w.toLowerCase())
      .filter((w) => !arabic.has(w)),
  );
}

/** What a reader of the page meets: text outside code and form values, human-facing attributes, script words. */
export function visibleText(html: string): string[] {
  const out: string[] = [];
  const attrs = /\s(?:aria-label|title|placeholder|alt|data-confirm|data-announce)="([^"]*)"/g;
  for (const m of html.matchAll(attrs)) out.push(m[1]!);
  const words = /data-words="([^"]*)"/.exec(html)?.[1];
  if (words) {
    const json = words
      .replace(/&quot;/g, '"')
      .replace(/&#x27;/g, "'")
      .replace(/&amp;/g, "&");
    // Its `{{name}}` placeholders are filled in by the script, not read.
    for (const v of Object.values(JSON.parse(json) as Record<string, string>))
      out.push(v.replace(/\{\{\s*\w+\s*\}\}/g, " "));
  }
  const body = html
    .replace(/<(script|style|code|kbd|textarea)\b[^>]*>[\s\S]*?<\/\1>/g, " ")
    // A choice whose words are its value is a code (an encoding, an audit action, a delivery type).
    .replace(/<option value="([^"]*)"[^>]*>\1<\/option>/g, " ")
    // Marked as another language on purpose (the switcher names each language in itself).
    .replace(/<(\w+)\b[^>]*\slang="(?!ar)[^"]*"[^>]*>[^<]*<\/\1>/g, " ")
    .replace(/<title>[\s\S]*?<\/title>/, (t) => t.replace(/· testimony/, ""))
    .replace(/<[^>]*>/g, "\n");
  out.push(...body.split("\n"));
  return out.map((s) => s.replace(/&[#\w]+;/g, " ").trim()).filter((s) => /[A-Za-z]/.test(s));
}

/** The English words on a page (after taking out the given user data), each with the text it sits in. */
export function englishOn(html: string, data: readonly string[], english: Set<string>): string[] {
  const found: string[] = [];
  for (let text of visibleText(html)) {
    // Longest first, so a short value ("id") does not cut a longer one ("speaker_id").
    for (const d of [...data].sort((a, b) => b.length - a.length)) if (d) text = text.split(d).join(" ");
    const hits = (text.match(/[A-Za-z]{3,}/g) ?? []).filter((w) => english.has(w.toLowerCase()));
    if (hits.length) found.push(`${hits.join(",")} in "${text.trim().slice(0, 100)}"`);
  }
  return found;
}
