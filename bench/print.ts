// The tables of a run: one per peer row (systems side by side), one for the Koban feature rows
// (each feature against plain Koban), and the legend of settings.
import type { Case, Row } from './plan.js';
import type { Results } from './results.js';
import { median } from './stats.js';
import {
  fmtInt,
  fmtMs,
  fmtUs,
  formatTable,
  medianCell,
  rangeCell,
  ratioCell,
  spreadPercent,
} from './table.js';

/** The A/B column: the working tree's median ÷ the ref's, on the working tree's line. */
function againstRef(row: Row, item: Case, results: Results, metric: 'rate' | 'p50'): string {
  if (item.build !== 'A') return '';
  const twin = row.cases.find((other) => other.build === 'B' && other.key.replace(/#B$/, '#A') === item.key);
  return twin ? ratioCell(results.values(row, item, metric), results.values(row, twin, metric)) : '';
}

export function peerTable(row: Row, results: Results, refLabel: string | undefined): string {
  const metric = row.latency ? 'p50' : 'rate';
  const graphile = row.cases.filter((item) => item.system === 'graphile');
  const medians = graphile.map((item) => results.values(row, item, metric)).filter((v) => v.length > 0);
  // Best graphile-worker: the highest throughput, the lowest latency.
  const best = medians.sort((a, b) => (row.latency ? median(a) - median(b) : median(b) - median(a)))[0] ?? [];
  const ab = refLabel ? [`÷ ${refLabel}`] : [];
  const vsGraphile = graphile.length > 0 ? [row.latency ? 'p50 ÷ best graphile' : '÷ best graphile'] : [];
  const header = row.latency
    ? ['system', 'p50 ms', 'p99 ms', 'p50 range (spread)', ...vsGraphile, ...ab]
    : ['system', 'jobs/s', 'range (spread)', ...vsGraphile, 'Node µs/job', 'DB µs/job', ...ab];
  const lines = row.cases.map((item) => {
    const values = (m: 'rate' | 'p50' | 'p99' | 'nodeUs' | 'dbUs') => results.values(row, item, m);
    const abCell = refLabel ? [againstRef(row, item, results, metric)] : [];
    const graphileCell = graphile.length > 0 ? [ratioCell(values(metric), best)] : [];
    if (row.latency) {
      return [
        item.label,
        medianCell(values('p50'), fmtMs),
        medianCell(values('p99'), fmtMs),
        rangeCell(values('p50'), fmtMs),
        ...graphileCell,
        ...abCell,
      ];
    }
    return [
      item.label,
      medianCell(values('rate'), fmtInt),
      rangeCell(values('rate'), fmtInt),
      ...graphileCell,
      medianCell(values('nodeUs'), fmtUs),
      medianCell(values('dbUs'), fmtUs),
      ...abCell,
    ];
  });
  return `### ${row.title}\n\n${formatTable(header, lines)}`;
}

/** Per repetition, feature ÷ baseline of the same build. */
function perRepRatios(row: Row, item: Case, results: Results): number[] {
  const baseline = row.cases.find((other) => other.build === item.build && !other.feature)!;
  const plain = results.perRep(row, baseline);
  return results
    .perRep(row, item)
    .map((report, rep) => (report?.rate && plain[rep]?.rate ? report.rate / plain[rep]!.rate! : Number.NaN))
    .filter(Number.isFinite);
}

export function featureTable(rows: readonly Row[], results: Results, refLabel: string | undefined): string {
  const header = [
    'row (jobs/s)',
    'feature',
    'plain',
    'with feature',
    'feature ÷ plain (range)',
    'Node µs/job',
    'DB µs/job',
    ...(refLabel ? [`feature ÷ ${refLabel}`] : []),
  ];
  const lines: string[][] = [];
  for (const row of rows) {
    for (const item of row.cases.filter((c) => c.feature)) {
      const baseline = row.cases.find((other) => other.build === item.build && !other.feature)!;
      const ratios = perRepRatios(row, item, results);
      const arrow = (metric: 'nodeUs' | 'dbUs') =>
        `${medianCell(results.values(row, baseline, metric), fmtUs)} → ${medianCell(results.values(row, item, metric), fmtUs)}`;
      lines.push([
        row.title,
        item.label,
        medianCell(results.values(row, baseline, 'rate'), fmtInt),
        medianCell(results.values(row, item, 'rate'), fmtInt),
        ratios.length === 0
          ? 'failed'
          : `${median(ratios).toFixed(2)}×${ratios.length > 1 ? ` (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})` : ''}`,
        arrow('nodeUs'),
        arrow('dbUs'),
        ...(refLabel ? [againstRef(row, item, results, 'rate')] : []),
      ]);
    }
  }
  const title =
    'Koban features against plain Koban, back to back in each repetition (µs/job: plain → feature)';
  return `### ${title}\n\n${formatTable(header, lines)}`;
}

/** The settings of every case, once per label. */
export function legend(rows: readonly Row[], results: Results): string[] {
  const seen = new Map<string, string>();
  // Insert cases are named after the API they call; their settings are those of the system's workers.
  for (const row of rows.filter((r) => r.kind === 'peers' && r.name !== 'insert')) {
    for (const item of row.cases) {
      const settings = results.settings(row, item);
      if (settings && !seen.has(item.label)) seen.set(item.label, settings);
    }
  }
  return [...seen].map(([label, settings]) => `- ${label}: ${settings}`);
}

/** How noisy the run was: the spread of the throughput rows. */
export function noise(rows: readonly Row[], results: Results): string | undefined {
  const spreads: { spread: number; where: string }[] = [];
  for (const row of rows.filter((r) => !r.latency)) {
    for (const item of row.cases) {
      const values = results.values(row, item, 'rate');
      if (values.length > 1)
        spreads.push({ spread: spreadPercent(values), where: `${item.label}, ${row.title}` });
    }
  }
  if (spreads.length === 0) return undefined;
  spreads.sort((a, b) => a.spread - b.spread);
  const middle = spreads[Math.floor(spreads.length / 2)]!;
  const worst = spreads.at(-1)!;
  return `Noise: the spread (max − min ÷ median) of throughput over the repetitions was ${middle.spread.toFixed(0)}% for the median case, ${worst.spread.toFixed(0)}% at worst (${worst.where}).`;
}
