import { max, median, min } from './stats.js';

/** A Markdown table whose columns are padded to line up in a terminal too. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  // The rule as the repository's formatter writes Markdown tables, so a table pastes as it is.
  const rule = line(widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)));
  return [line(header), rule, ...rows.map(line)].join('\n');
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export const fmtInt = (value: number) => integer.format(value);
export const fmtMs = (value: number) => value.toFixed(1);
export const fmtUs = (value: number) => (value < 100 ? value.toFixed(1) : integer.format(value));

/** The median of some values, or a dash when there are none. */
export function medianCell(values: readonly number[], fmt: (v: number) => string): string {
  return values.length === 0 ? '—' : fmt(median(values));
}

/** How far apart the repetitions were: `min–max (spread)`, spread = (max − min) ÷ median. */
export function rangeCell(values: readonly number[], fmt: (v: number) => string): string {
  if (values.length === 0) return 'failed';
  if (values.length === 1) return '1 rep';
  return `${fmt(min(values))}–${fmt(max(values))} (${spreadPercent(values).toFixed(0)}%)`;
}

export function spreadPercent(values: readonly number[]): number {
  return ((max(values) - min(values)) / median(values)) * 100;
}

/** `a ÷ b` of two medians, or a dash when either is missing. */
export function ratioCell(a: readonly number[], b: readonly number[]): string {
  if (a.length === 0 || b.length === 0) return '—';
  return `${(median(a) / median(b)).toFixed(2)}×`;
}
