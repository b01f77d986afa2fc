/**
 * A plain-text table for terminals (the CLI's run table, `runs` list and an experiment's cells):
 * columns two spaces apart, each as wide as its widest cell; left-aligned unless `right` says
 * otherwise; a left-aligned last column is not padded (a path or an error may be long), and no line
 * ends in spaces.
 */
export function textTable(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  o: { right?: (column: number) => boolean } = {},
): string {
  const right = o.right ?? (() => false);
  const last = head.length - 1;
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (right(i) ? c.padStart(widths[i]) : i === last ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}
