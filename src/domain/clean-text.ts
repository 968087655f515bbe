import { z } from "zod";
import { AppError } from "./errors.js";

/**
 * The one gate every text field passes, on every path (CSV and JSON imports, API bodies, campaign
 * files): the schemas below build on `cleanText`, so a field cannot be declared without it.
 *
 * - `multiline` (a quote, notes, a description, a comment): newlines and tabs allowed;
 * - `line` (a title, a pseudonym, a term): one line, no tabs;
 * - `name` (a campaign name): one line, and no '/' or '\' either, since names reach file and folder
 *   listings and must not look like a path.
 *
 * In all of them: the text is NFC, holds no C0/C1 control (other than newline and tab where allowed),
 * no lone surrogate, no line or paragraph separator, no bidi embedding or override (U+202A-U+202E,
 * which let a quote reorder the words printed after it, such as who said it) and no unpaired bidi
 * isolate (U+2066-U+2069). Templates wrap the quote and the attribution in isolates of their own.
 */
export type TextKind = "multiline" | "line" | "name";

const NAMES: Record<number, string> = {
  0: "NUL",
  9: "TAB",
  10: "LINE FEED",
  13: "CARRIAGE RETURN",
  27: "ESCAPE",
  127: "DELETE",
  8232: "LINE SEPARATOR",
  8233: "PARAGRAPH SEPARATOR",
  8234: "LEFT-TO-RIGHT EMBEDDING",
  8235: "RIGHT-TO-LEFT EMBEDDING",
  8236: "POP DIRECTIONAL FORMATTING",
  8237: "LEFT-TO-RIGHT OVERRIDE",
  8238: "RIGHT-TO-LEFT OVERRIDE",
  8294: "LEFT-TO-RIGHT ISOLATE",
  8295: "RIGHT-TO-LEFT ISOLATE",
  8296: "FIRST STRONG ISOLATE",
  8297: "POP DIRECTIONAL ISOLATE",
};

/** "U+202E RIGHT-TO-LEFT OVERRIDE": how an error names an invisible character. */
export function describeChar(cp: number): string {
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
  const name = NAMES[cp] ?? (cp < 0x20 || (cp >= 0x80 && cp < 0xa0) ? "control character" : undefined);
  return name ? `${hex} ${name}` : hex;
}

const isIsolateOpen = (cp: number) => cp >= 0x2066 && cp <= 0x2068;
const PDI = 0x2069;

/** The first thing wrong with a text for its kind, as a sentence; null when it is clean. */
export function textProblem(text: string, kind: TextKind): string | null {
  const allowBreaks = kind === "multiline";
  let open: { cp: number; at: number }[] = [];
  let at = 0; // 1-based character position, as a person counts
  for (let i = 0; i < text.length; i++) {
    const cp = text.codePointAt(i)!;
    at++;
    if (cp > 0xffff) {
      i++;
      continue;
    }
    if (cp >= 0xd800 && cp <= 0xdfff)
      return `holds a lone surrogate (${describeChar(cp)}) at character ${at}: not valid Unicode`;
    const where = `at character ${at}`;
    if (cp === 0x0a || cp === 0x09) {
      if (!allowBreaks)
        return `holds ${describeChar(cp)} ${where}: this field is one line${cp === 0x09 ? " without tabs" : ""}`;
      if (cp === 0x0a) {
        // Isolates end with the paragraph: an isolate left open on one line is unpaired.
        if (open.length) return unpaired(open[0]!);
        open = [];
      }
      continue;
    }
    if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
      return `holds the control character ${describeChar(cp)} ${where}`;
    if (cp === 0x2028 || cp === 0x2029)
      return `holds ${describeChar(cp)} ${where}: ${allowBreaks ? "use a newline" : "this field is one line"}`;
    if (cp >= 0x202a && cp <= 0x202e)
      return `holds the bidi control ${describeChar(cp)} ${where}: embeddings and overrides can reorder the text around the quote (who said it), so they are refused`;
    if (isIsolateOpen(cp) || cp === PDI) {
      if (kind === "name")
        return `holds the bidi control ${describeChar(cp)} ${where}: not allowed in a name`;
      if (cp === PDI) {
        if (!open.pop())
          return `holds ${describeChar(cp)} ${where} with no isolate open before it (unpaired)`;
      } else open.push({ cp, at });
      continue;
    }
    if (kind === "name" && (cp === 0x2f || cp === 0x5c))
      return `holds '${String.fromCharCode(cp)}' ${where}: a name must not look like a path`;
  }
  return open.length ? unpaired(open[0]!) : null;
}

const unpaired = (o: { cp: number; at: number }) =>
  `holds ${describeChar(o.cp)} at character ${o.at} with no U+2069 POP DIRECTIONAL ISOLATE after it on its line (unpaired)`;

/** Line ends as one newline, then NFC: what is stored and compared. */
export function normaliseText(text: string, kind: TextKind): string {
  const lines = kind === "multiline" ? text.replace(/\r\n?/g, "\n") : text;
  return lines.normalize("NFC");
}

/**
 * The gate for a text that does not come through a zod schema (a CLI option, a use case's argument):
 * the normalised text, or invalid_input naming the field and the problem.
 */
export function checkText(text: string, kind: TextKind, field: string): string {
  const lines = kind === "multiline" ? text.replace(/\r\n?/g, "\n") : text;
  const problem = textProblem(lines, kind);
  if (problem) throw new AppError("invalid_input", `${field}: ${problem}`, [{ field, message: problem }]);
  return normaliseText(lines, kind);
}

/**
 * A zod string that has passed the gate; chain `.trim().min().max()` on it as on z.string().
 * The check runs on the text as given (a lone CR in a one-line field is refused, not folded).
 */
export function cleanText(kind: TextKind = "line", params?: Parameters<typeof z.string>[0]) {
  return z
    .string(params)
    .superRefine((value, ctx) => {
      const problem = textProblem(kind === "multiline" ? value.replace(/\r\n?/g, "\n") : value, kind);
      if (problem) ctx.addIssue({ code: "custom", message: problem, abort: true });
    })
    .overwrite((value) => normaliseText(value, kind));
}

/**
 * For text read back from storage, which may predate the gate: each line that holds an embedding or
 * override, or an unpaired isolate, loses its bidi controls, so it cannot reorder what follows it.
 */
export function neutraliseBidi(text: string): string {
  if (!/[\u202A-\u202E\u2066-\u2069]/.test(text)) return text;
  return text
    .split("\n")
    .map((line) =>
      /[\u202A-\u202E]/.test(line) || textProblem(line.replace(/[^\u2066-\u2069]/g, ""), "line")
        ? line.replace(/[\u202A-\u202E\u2066-\u2069]/g, "")
        : line,
    )
    .join("\n");
}
