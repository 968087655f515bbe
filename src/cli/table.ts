/** A plain aligned table for terminals; cells are cut so one long quote does not wreck the layout. */
export function table(headers: string[], rows: string[][], maxCell = 60): string {
  const cut = (s: string) => {
    const flat = s.replace(/\s+/g, " ");
    return flat.length > maxCell ? `${flat.slice(0, maxCell - 1)}…` : flat;
  };
  const cells = [headers, ...rows.map((r) => r.map(cut))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  if (rows.length === 0) return `${line(headers)}\n(none)`;
  return cells.map(line).join("\n");
}
