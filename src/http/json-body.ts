import { isUtf8 } from "node:buffer";
import type { FastifyInstance } from "fastify";
import { AppError } from "../domain/errors.js";

/** Byte offset of the first byte that does not start or continue a well-formed UTF-8 sequence. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    let n = 0;
    let min = 0;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) [n, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [n, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [n, min] = [3, 0x10000];
    else return i;
    let cp = b & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

const SENTINEL = "\uFDD0";

/**
 * Where in a JSON body the first invalid byte sits: the JSON string holding it (its path, and the line
 * within that string, which for an import's `content` is the line of the file) when the rest parses,
 * else the body's own line.
 */
export function locateInvalidUtf8(bytes: Buffer): { field: string; line: number; file?: string } {
  const at = firstInvalidUtf8(bytes);
  const before = bytes.subarray(0, at).toString("utf8");
  const bodyLine = before.split("\n").length;
  let skip = 1;
  while (skip < 4 && at + skip < bytes.length && (bytes[at + skip]! & 0xc0) === 0x80) skip++;
  const text = `${before}${SENTINEL}${bytes.subarray(at + skip).toString("utf8")}`;
  if (text.indexOf(SENTINEL) !== text.lastIndexOf(SENTINEL)) return { field: "body", line: bodyLine };
  try {
    const found = findString(JSON.parse(text), []);
    if (found) return found;
  } catch {
    // Not JSON either way: the body's line is all there is to say.
  }
  return { field: "body", line: bodyLine };
}

function findString(
  value: unknown,
  path: string[],
  parent?: Record<string, unknown>,
): { field: string; line: number; file?: string } | undefined {
  if (typeof value === "string") {
    const i = value.indexOf(SENTINEL);
    if (i < 0) return undefined;
    const file = typeof parent?.file === "string" ? parent.file : undefined;
    return { field: path.join(".") || "body", line: value.slice(0, i).split("\n").length, file };
  }
  if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      const hit = findString(v, [...path, k], value as Record<string, unknown>);
      if (hit) return hit;
    }
  }
  return undefined;
}

/**
 * JSON request bodies must be strictly valid UTF-8, as import files are: fastify's own parser would
 * turn bad bytes into U+FFFD and store them. Refused with the field and line (for an import, the
 * file's line, as the CLI names it); otherwise fastify's parser, with its prototype-poisoning checks.
 */
export function strictJsonBodies(app: FastifyInstance) {
  const parse = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (req, body, done) => {
    const bytes = body as Buffer;
    if (isUtf8(bytes)) return parse(req, bytes.toString("utf8"), done);
    const { field, line, file } = locateInvalidUtf8(bytes);
    const where = file ? `${file}:${line}` : `${field}:${line}`;
    done(
      new AppError("invalid_input", `${where}: ${field}: is not valid UTF-8`, [
        { where, field, message: "is not valid UTF-8" },
      ]),
      undefined,
    );
  });
}
