import { SUPPORTED_LANGUAGES } from "../domain/catalogue/index.js";

/** How a flat CSV column maps onto the nested JSON shape; lists are `|`-separated in CSV. */
export type ColumnSpec = { column: string; path: string[]; list?: boolean; required?: boolean };

export const SPEAKER_COLUMNS: ColumnSpec[] = [
  { column: "id", path: ["id"] },
  { column: "locale", path: ["locale"] },
  { column: "pseudonym", path: ["pseudonym"], required: true },
  { column: "description", path: ["description"] },
  { column: "attribution", path: ["attribution"], required: true },
  { column: "public_name", path: ["publicName"] },
  // The same three fields in each catalogued language: `pseudonym_ar`, `description_ar`, `public_name_ar`, …
  // (JSON files use `localized: { "ar": { pseudonym, description, publicName } }`, any BCP 47 tag).
  ...SUPPORTED_LANGUAGES.flatMap((lang) => [
    { column: `pseudonym_${lang}`, path: ["localized", lang, "pseudonym"] },
    { column: `description_${lang}`, path: ["localized", lang, "description"] },
    { column: `public_name_${lang}`, path: ["localized", lang, "publicName"] },
  ]),
  { column: "consent_state", path: ["consent", "state"] },
  { column: "consent_recorded_by", path: ["consent", "recordedBy"] },
  { column: "consent_recorded_at", path: ["consent", "recordedAt"] },
  { column: "consent_scope_locales", path: ["consent", "scope", "locales"], list: true },
  { column: "consent_scope_channels", path: ["consent", "scope", "channels"], list: true },
  { column: "consent_expires_at", path: ["consent", "expiresAt"] },
  { column: "real_name", path: ["private", "realName"] },
  { column: "contact", path: ["private", "contact"] },
  { column: "notes", path: ["private", "notes"] },
  { column: "redaction_terms", path: ["redactionTerms"], list: true },
];

export const QUOTE_COLUMNS: ColumnSpec[] = [
  { column: "id", path: ["id"] },
  { column: "speaker_id", path: ["speakerId"], required: true },
  { column: "text", path: ["text"], required: true },
  { column: "locale", path: ["locale"], required: true },
  { column: "narrative", path: ["narrative"], required: true },
  { column: "source_title", path: ["source", "title"], required: true },
  { column: "source_publisher", path: ["source", "publisher"], required: true },
  { column: "source_url", path: ["source", "url"] },
  { column: "source_published_at", path: ["source", "publishedAt"], required: true },
  { column: "translation_of", path: ["translationOf"] },
];

export function missingColumns(specs: ColumnSpec[], header: string[]): string[] {
  return specs.filter((s) => s.required && !header.includes(s.column)).map((s) => s.column);
}

export function unknownColumns(specs: ColumnSpec[], header: string[]): string[] {
  const known = new Set(specs.map((s) => s.column));
  return header.filter((h) => !known.has(h));
}

/** A column named twice: csv-parse keeps the last cell, so the first would be dropped without a word. */
export function duplicateColumns(header: string[]): string[] {
  return [...new Set(header.filter((h, i) => header.indexOf(h) !== i))];
}

/** A column name as an error names it: quoted when it is empty or holds invisible characters. */
export function shownColumn(name: string): string {
  return name === "" || /[\p{Cc}\p{Cf}]/u.test(name) ? JSON.stringify(name) : name;
}

/**
 * Flat CSV row → nested object; empty optional cells are absent, not empty strings. An empty
 * required cell stays "", so the schema says "must not be empty" rather than "received undefined".
 */
export function nestRow(specs: ColumnSpec[], row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const spec of specs) {
    const raw = row[spec.column];
    if (typeof raw !== "string" || (raw.trim() === "" && !spec.required)) continue;
    const value = spec.list
      ? raw
          .split("|")
          .map((s) => s.trim())
          .filter(Boolean)
      : raw;
    let target = out;
    for (const part of spec.path.slice(0, -1)) {
      target[part] ??= {};
      target = target[part] as Record<string, unknown>;
    }
    target[spec.path[spec.path.length - 1]!] = value;
  }
  return out;
}

/** The name a person knows a field by: the CSV column where it came from CSV, else the JSON path. */
export function fieldName(specs: ColumnSpec[] | undefined, path: PropertyKey[]): string {
  const dotted = path.map(String).join(".");
  if (!specs) return dotted || "record";
  const match = [...specs]
    .sort((a, b) => b.path.length - a.path.length)
    .find((s) => s.path.every((p, i) => String(path[i]) === p));
  // A rule on a whole group (e.g. `consent`) is named by the group's first column, never a JSON path.
  const within = specs.find((s) => path.length > 0 && path.every((p, i) => s.path[i] === String(p)));
  return match?.column ?? within?.column ?? (dotted || "row");
}
