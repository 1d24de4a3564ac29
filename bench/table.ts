import { max, median, min } from './stats.js';

/** A Markdown table whose columns are padded to line up in a terminal too. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export const fmtInt = (value: number) => integer.format(value);
export const fmtMs = (value: number) => value.toFixed(1);

/** The median of some runs, with their range when there is more than one. */
export function cell(values: readonly number[], fmt: (v: number) => string): string {
  if (values.length === 0) return 'failed';
  if (values.length === 1) return fmt(values[0]!);
  return `${fmt(median(values))} (${fmt(min(values))}–${fmt(max(values))})`;
}

/** Koban ÷ peer, for throughput. */
export function ratio(koban: readonly number[], peer: readonly number[]): string {
  if (koban.length === 0 || peer.length === 0) return '—';
  return `${(median(koban) / median(peer)).toFixed(2)}×`;
}

/** Koban − peer in ms, for latency (negative: Koban is faster). */
export function difference(koban: readonly number[], peer: readonly number[]): string {
  if (koban.length === 0 || peer.length === 0) return '—';
  const d = median(koban) - median(peer);
  return `${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(1)} ms`;
}
