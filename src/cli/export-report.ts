import type { ExportResult } from "../app/export.service.js";

/**
 * What a drop says besides its bundle, one line each: unfinished drops it recovered, outputs that failed
 * the check at export (which and why), and what the exposure cap held back for a later drop.
 */
export function exportReportLines(
  r: Pick<ExportResult, "recovered" | "failedAtExport" | "heldBack">,
): string[] {
  const lines: string[] = [];
  for (const x of r.recovered) {
    const what = {
      released: `released, ${x.outputs} outputs eligible again`,
      completed: `completed, ${x.outputs} outputs exported`,
      left: `left alone, being written by ${x.owner}`,
    }[x.action];
    lines.push(`recovered ${x.bundleId}: ${what} (unfinished drop of ${x.slot})`);
  }
  for (const f of r.failedAtExport) {
    lines.push(`failed at export: ${f.outputId}: ${f.reason}${f.term ? ` (term ${f.term})` : ""}`);
  }
  if (r.heldBack.length) {
    lines.push(
      `held back by the exposure cap: ${r.heldBack.map((h) => `${h.speakerId} ${h.count}`).join(", ")}`,
    );
  }
  return lines;
}
