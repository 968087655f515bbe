import { z } from "zod";
import { AppError, type ErrorDetail } from "../domain/errors.js";
import { stableId } from "../domain/ids.js";
import {
  contentChanged,
  type Quote,
  type QuoteImport,
  quoteImportSchema,
  quoteSchema,
} from "../domain/quote.js";
import { type Speaker, speakerSchema } from "../domain/speaker.js";
import {
  type ColumnSpec,
  duplicateColumns,
  fieldName,
  missingColumns,
  nestRow,
  QUOTE_COLUMNS,
  SPEAKER_COLUMNS,
  shownColumn,
  unknownColumns,
} from "../import/columns.js";
import { readRecords } from "../import/read-records.js";
import type { AuditEntry } from "../store/audit.store.js";
import type { EntityWrite } from "../store/commit.js";
import type { Store } from "../store/store.js";

export type ImportSummary = { file: string; created: number; updated: number; unchanged: number };

type Parsed<T> = { line: number; value: T };

/**
 * Fields of a JSON record that the entity does not have (a typo, or a CSV column name such as
 * `translation_of`): refused like an unknown CSV column instead of silently dropped. `known` is the
 * stored entity's schema, so a record exported from the API (with its vetting, say) still imports.
 */
function unknownFields(known: z.ZodType, value: unknown, path: string[] = []): string[] {
  if (known instanceof z.ZodOptional || known instanceof z.ZodNullable || known instanceof z.ZodDefault)
    return unknownFields(known.unwrap() as z.ZodType, value, path);
  if (known instanceof z.ZodPipe) return unknownFields(known.in as z.ZodType, value, path);
  if (known instanceof z.ZodArray && Array.isArray(value))
    return value.flatMap((v, i) => unknownFields(known.element as z.ZodType, v, [...path, String(i)]));
  if (!(known instanceof z.ZodObject) || !value || typeof value !== "object" || Array.isArray(value))
    return [];
  const shape = known.shape as Record<string, z.ZodType>;
  return Object.entries(value).flatMap(([key, v]) =>
    Object.hasOwn(shape, key) ? unknownFields(shape[key]!, v, [...path, key]) : [[...path, key].join(".")],
  );
}

/** Bytes → validated entities, every problem collected as FILE:LINE: field: message. */
function parseFile<T extends { id: string }>(
  bytes: Uint8Array,
  file: string,
  specs: ColumnSpec[],
  schema: {
    safeParse(
      v: unknown,
    ):
      | { success: true; data: T }
      | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
  },
  known: z.ZodType,
  deriveId: (raw: Record<string, unknown>) => string,
): { records: Parsed<T>[]; field: (...path: string[]) => string } {
  const read = readRecords(bytes, file);
  if (!read.ok) throw invalid(file, read.errors);
  /** A field as the file names it: its CSV column, or its JSON path. */
  const field = (...path: PropertyKey[]) => fieldName(read.format === "csv" ? specs : undefined, path);
  const errors: ErrorDetail[] = [];
  if (read.format === "csv") {
    const cols = read.columns ?? [];
    for (const c of missingColumns(specs, cols))
      errors.push({ where: `${file}:1`, field: c, message: "missing column" });
    for (const c of duplicateColumns(cols))
      errors.push({ where: `${file}:1`, field: shownColumn(c), message: "duplicate column" });
    for (const c of unknownColumns(specs, cols))
      errors.push({ where: `${file}:1`, field: shownColumn(c), message: "unknown column" });
    if (errors.length) throw invalid(file, errors);
  }
  const out: Parsed<T>[] = [];
  const seen = new Map<string, number>();
  for (const rec of read.records) {
    const raw = read.format === "csv" ? nestRow(specs, rec.value) : rec.value;
    const where = `${file}:${rec.line}`;
    if (read.format === "json") {
      for (const f of unknownFields(known, raw)) errors.push({ where, field: f, message: "unknown field" });
    }
    raw.id ??= deriveId(raw);
    const result = schema.safeParse(raw);
    if (!result.success) {
      for (const issue of result.error.issues) {
        errors.push({ where, field: field(...issue.path), message: issue.message });
      }
      continue;
    }
    const first = seen.get(result.data.id);
    if (first !== undefined) {
      errors.push({ where, field: "id", message: `duplicate id ${result.data.id} (first on line ${first})` });
      continue;
    }
    seen.set(result.data.id, rec.line);
    out.push({ line: rec.line, value: result.data });
  }
  if (errors.length) throw invalid(file, errors);
  return { records: out, field };
}

/** Beyond this many, problems are counted, not listed: a file of 40,000 bad rows needs one fix, not 40,000 lines. */
const MAX_LISTED = 100;

function invalid(file: string, errors: ErrorDetail[]): AppError {
  const listed = errors.slice(0, MAX_LISTED);
  const lines = listed.map((e) => `${e.where}: ${e.field}: ${e.message}`);
  const more = errors.length - listed.length;
  if (more > 0) lines.push(`…and ${more} more problem(s), not listed`);
  return new AppError(
    "invalid_input",
    `${file}: nothing imported, ${errors.length} problem(s):\n${lines.join("\n")}`,
    listed,
  );
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Every rule of `speakers import` without writing anything: throws the same FILE:LINE errors, or says
 * what an import would do now. The workspace shows this before the staff member confirms.
 */
export async function checkSpeakers(store: Store, bytes: Uint8Array, file: string) {
  const { parsed, existing } = await readSpeakers(store, bytes, file);
  return countChanges(
    parsed.map((p) => p.value),
    (v) => existing.get(v.id)?.value,
    (prev, v) => sameJson(prev, v),
  );
}

/** What an import would do, without doing it: records new, changed and unchanged. */
function countChanges<T>(values: T[], prevOf: (v: T) => unknown, same: (prev: never, v: T) => boolean) {
  const c = { records: values.length, created: 0, updated: 0, unchanged: 0 };
  for (const v of values) {
    const prev = prevOf(v);
    if (prev === undefined) c.created++;
    else if (same(prev as never, v)) c.unchanged++;
    else c.updated++;
  }
  return c;
}

async function readSpeakers(store: Store, bytes: Uint8Array, file: string) {
  const { records: parsed } = parseFile<Speaker>(
    bytes,
    file,
    SPEAKER_COLUMNS,
    speakerSchema,
    speakerSchema,
    (raw) => stableId("s", String(raw.pseudonym ?? "")),
  );
  const existing = new Map(
    (await store.speakers.getMany(parsed.map((p) => p.value.id))).map((v) => [v.value.id, v]),
  );
  return { parsed, existing };
}

export async function importSpeakers(
  store: Store,
  bytes: Uint8Array,
  file: string,
  actor: string,
  now = new Date(),
) {
  const { parsed, existing } = await readSpeakers(store, bytes, file);
  const at = now.toISOString();
  const writes: EntityWrite[] = [];
  const audit: AuditEntry[] = [];
  const summary: ImportSummary = { file, created: 0, updated: 0, unchanged: 0 };
  for (const { value } of parsed) {
    const prev = existing.get(value.id);
    if (prev && sameJson(prev.value, value)) {
      summary.unchanged++;
      continue;
    }
    writes.push(store.speakers.write(value, prev));
    audit.push({ actor, action: prev ? "speaker.updated" : "speaker.imported", entity: value.id, at });
    prev ? summary.updated++ : summary.created++;
  }
  await store.speakers.commit({ writes, audit });
  return summary;
}

/**
 * Every rule of `quotes import` without writing anything: throws the same FILE:LINE errors, or says
 * what an import would do now. The workspace shows this before the staff member confirms.
 */
export async function checkQuotes(store: Store, bytes: Uint8Array, file: string) {
  const { parsed, existing } = await readQuotes(store, bytes, file);
  return countChanges(
    parsed.map((p) => p.value),
    (v) => existing.get(v.id)?.value,
    (prev: Quote, v) => {
      const { vetting, createdAt, updatedAt, ...before } = prev;
      return sameJson(before, v);
    },
  );
}

async function readQuotes(store: Store, bytes: Uint8Array, file: string) {
  const { records: parsed, field } = parseFile<QuoteImport>(
    bytes,
    file,
    QUOTE_COLUMNS,
    quoteImportSchema,
    quoteSchema,
    (raw) =>
      stableId("q", String(raw.speakerId ?? ""), String(raw.locale ?? ""), String(raw.text ?? "").trim()),
  );
  const speakerIds = [...new Set(parsed.map((p) => p.value.speakerId))];
  const knownSpeakers = new Set((await store.speakers.getMany(speakerIds)).map((s) => s.value.id));
  const existing = new Map(
    (await store.quotes.getMany(parsed.map((p) => p.value.id))).map((v) => [v.value.id, v]),
  );
  const inFile = new Set(parsed.map((p) => p.value.id));
  const translationTargets = parsed
    .map((p) => p.value.translationOf)
    .filter((t): t is string => !!t && !inFile.has(t));
  const knownQuotes = new Set((await store.quotes.getMany(translationTargets)).map((q) => q.value.id));

  const errors: ErrorDetail[] = [];
  for (const { line, value } of parsed) {
    const where = `${file}:${line}`;
    if (!knownSpeakers.has(value.speakerId)) {
      errors.push({
        where,
        field: field("speakerId"),
        message: `unknown speaker ${value.speakerId}: import speakers first`,
      });
    }
    const t = value.translationOf;
    if (t && !inFile.has(t) && !knownQuotes.has(t)) {
      errors.push({ where, field: field("translationOf"), message: `unknown quote ${t}` });
    }
    if (t === value.id)
      errors.push({ where, field: field("translationOf"), message: "a quote cannot translate itself" });
  }
  if (errors.length) throw invalid(file, errors);
  return { parsed, existing };
}

export async function importQuotes(
  store: Store,
  bytes: Uint8Array,
  file: string,
  actor: string,
  now = new Date(),
) {
  const { parsed, existing } = await readQuotes(store, bytes, file);
  const at = now.toISOString();
  const writes: EntityWrite[] = [];
  const audit: AuditEntry[] = [];
  const summary: ImportSummary = { file, created: 0, updated: 0, unchanged: 0 };
  for (const { value } of parsed) {
    const prev = existing.get(value.id);
    if (!prev) {
      const quote: Quote = { ...value, vetting: { state: "pending" }, createdAt: at, updatedAt: at };
      writes.push(store.quotes.write(quote, prev));
      audit.push({ actor, action: "quote.imported", entity: value.id, to: "pending", at });
      summary.created++;
      continue;
    }
    const { vetting, createdAt, updatedAt, ...before } = prev.value;
    if (sameJson(before, value)) {
      summary.unchanged++;
      continue;
    }
    // Changed words must be vetted again; a changed citation alone keeps the vetting.
    const revet = contentChanged(before, value) && vetting.state !== "pending";
    const quote: Quote = {
      ...value,
      vetting: revet ? { state: "pending" } : vetting,
      createdAt,
      updatedAt: at,
    };
    writes.push(store.quotes.write(quote, prev));
    audit.push({
      actor,
      action: "quote.updated",
      entity: value.id,
      from: vetting.state,
      to: quote.vetting.state,
      at,
    });
    summary.updated++;
  }
  await store.quotes.commit({ writes, audit });
  return summary;
}
