/**
 * Aligned plain-text columns for the report commands: each column as wide as its widest cell,
 * numeric columns right-aligned, two spaces between columns. A row given as a plain string is a
 * note printed as it is (under the row it explains), not measured.
 */
export function textTable(header: string[], rows: Array<string[] | string>, indent = ''): string {
  const cells = rows.filter((r): r is string[] => Array.isArray(r));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => cells.length > 0 && cells.every((r) => /^(-|[\d/ %.]*)$/.test(r[i] ?? '')));
  const line = (row: string[]) =>
    indent +
    row
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map((r) => (typeof r === 'string' ? indent + r : line(r)))].join('\n')}\n`;
}
