import { parse as parseCsv } from "csv-parse/sync";
import type { ErrorDetail } from "../domain/errors.js";

/** One input record with the line it starts on, so every error can say FILE:LINE. */
export type SourceRecord = { line: number; value: Record<string, unknown> };

export type ReadResult =
  | { ok: true; format: "csv" | "json"; records: SourceRecord[]; columns?: string[] }
  | { ok: false; errors: ErrorDetail[] };

const fail = (where: string, field: string, message: string): ReadResult => ({
  ok: false,
  errors: [{ where, field, message }],
});

/** Strict UTF-8: the first line holding an invalid byte sequence is named. */
function decodeUtf8(bytes: Uint8Array, file: string): { text: string } | { error: ReadResult } {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  try {
    return { text: decoder.decode(bytes) };
  } catch {
    let line = 1;
    let start = 0;
    for (let i = 0; i <= bytes.length; i++) {
      if (i === bytes.length || bytes[i] === 0x0a) {
        try {
          decoder.decode(bytes.subarray(start, i));
        } catch {
          return { error: fail(`${file}:${line}`, "file", "is not valid UTF-8") };
        }
        line++;
        start = i + 1;
      }
    }
    return { error: fail(`${file}:1`, "file", "is not valid UTF-8") };
  }
}

function readCsv(text: string, file: string): ReadResult {
  const normalised = text.replace(/\r\n?/g, "\n");
  let headerDone = false;
  let completedBytes = 0; // through the end of the last record parsed, header excluded
  try {
    let columns: string[] = [];
    const rows = parseCsv(normalised, {
      columns: (header: string[]) => {
        headerDone = true;
        columns = header.map((h) => h.trim());
        return columns;
      },
      info: true,
      raw: true,
      skip_empty_lines: true,
      relax_column_count: false,
      on_record: (record: unknown, info: { bytes: number }) => {
        completedBytes = info.bytes;
        return record;
      },
    }) as { record: Record<string, string>; raw: string; info: { lines: number } }[];
    const records = rows.map((r) => {
      const body = r.raw.replace(/\n+$/, "").replace(/^\n+/, "");
      const newlines = body.split("\n").length - 1;
      return { line: r.info.lines - newlines, value: r.record as Record<string, unknown> };
    });
    return { ok: true, format: "csv", records, columns };
  } catch (err) {
    const e = err as { message: string; code?: string };
    const message = e.message.replace(/ on line \d+$| at line \d+$/, "");
    // csv-parse names the line where it gave up (for an unclosed quote, the end of the file);
    // the row to fix is the one that starts after the last complete record.
    const after = completedBytes
      ? Buffer.from(normalised, "utf8").subarray(0, completedBytes).toString("utf8").length
      : headerDone
        ? headerEnd(normalised)
        : 0;
    return fail(`${file}:${lineAt(normalised, skipBlankLines(normalised, after))}`, "row", message);
  }
}

/** Offset just past the header row (a quoted header cell may hold a newline). */
function headerEnd(text: string): number {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') quoted = !quoted;
    else if (text[i] === "\n" && !quoted) return i + 1;
  }
  return text.length;
}

function skipBlankLines(text: string, offset: number): number {
  let i = offset;
  while (text[i] === "\n") i++;
  return i;
}

/** Character offsets where each top-level array element starts; JSON.parse has already vouched for syntax. */
function arrayElementOffsets(text: string): number[] {
  const starts: number[] = [];
  let depth = 0;
  let inString = false;
  let expectingValue = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (/\s/.test(c)) continue;
    if (depth === 1 && expectingValue && c !== "]") {
      starts.push(i);
      expectingValue = false;
    }
    if (c === '"') inString = true;
    else if (c === "[" || c === "{") {
      depth++;
      if (depth === 1) expectingValue = true;
    } else if (c === "]" || c === "}") depth--;
    else if (c === "," && depth === 1) expectingValue = true;
  }
  return starts;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** The line a JSON.parse error points at (V8 names the character position). */
export function jsonErrorLine(text: string, err: unknown): number {
  const m = /position (\d+)/.exec((err as Error).message);
  return m ? lineAt(text, Number(m[1])) : 1;
}

function readJson(text: string, file: string): ReadResult {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return fail(
      `${file}:${jsonErrorLine(text, err)}`,
      "file",
      `is not valid JSON: ${(err as Error).message}`,
    );
  }
  if (!Array.isArray(data)) return fail(`${file}:1`, "file", "must be a JSON array of objects");
  const offsets = arrayElementOffsets(text);
  const records: SourceRecord[] = [];
  // Offsets ascend, so lines are counted on from the previous element: linear, not quadratic, in size.
  let line = 1;
  let counted = 0;
  for (const [i, item] of data.entries()) {
    const offset = offsets[i] ?? 0;
    for (; counted < offset; counted++) if (text.charCodeAt(counted) === 10) line++;
    if (item === null || typeof item !== "object" || Array.isArray(item)) {
      return fail(`${file}:${line}`, `[${i}]`, "must be an object");
    }
    records.push({ line, value: item as Record<string, unknown> });
  }
  return { ok: true, format: "json", records };
}

/** Reads a CSV (header row) or JSON array file into records, refusing empty, non-UTF-8 and malformed input. */
export function readRecords(bytes: Uint8Array, file: string): ReadResult {
  const decoded = decodeUtf8(bytes, file);
  if ("error" in decoded) return decoded.error;
  const text = decoded.text.replace(/^\uFEFF/, "");
  if (text.trim() === "") return fail(`${file}:1`, "file", "is empty");
  const isJson = file.toLowerCase().endsWith(".json") || /^\s*[[{]/.test(text);
  const result = isJson ? readJson(text, file) : readCsv(text, file);
  if (result.ok && result.records.length === 0) return fail(`${file}:1`, "file", "has no records");
  return result;
}
