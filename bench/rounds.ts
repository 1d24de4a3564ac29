// Shared by the Koban-only benchmark rows (pro.ts, flows.ts): a fresh database per measurement,
// rounds that run the plain case and the feature back to back, and the table.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

export const baseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export const quietLogger = {
  info() {},
  warn() {},
  error: (message: string) => process.stderr.write(`  [koban] ${message}\n`),
};

/** Runs `work` on a database of its own, dropped afterwards. */
export async function withDatabase<T>(prefix: string, work: (url: string) => Promise<T>): Promise<T> {
  const name = `koban_bench_${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  try {
    return await work(url.toString());
  } finally {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export interface Compared {
  readonly plain: number;
  readonly feature: number;
  /** The median of the per-round ratios of feature to plain. */
  readonly ratio: number;
}

/**
 * Runs plain and feature back to back in each round, so that a busy machine slows both alike;
 * the ratio reported is the median of the per-round ratios.
 */
export async function compare(
  label: string,
  runs: number,
  plain: () => Promise<number>,
  feature: () => Promise<number>,
): Promise<Compared> {
  const plainRates: number[] = [];
  const featureRates: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < runs; round++) {
    plainRates.push(await plain());
    featureRates.push(await feature());
    ratios.push(featureRates.at(-1)! / plainRates.at(-1)!);
    process.stderr.write(
      `${label} round ${round + 1}/${runs}: plain ${Math.round(plainRates.at(-1)!)} jobs/s, ` +
        `feature ${Math.round(featureRates.at(-1)!)} jobs/s\n`,
    );
  }
  return { plain: median(plainRates), feature: median(featureRates), ratio: median(ratios) };
}

/** Prints a table of figure, plain rate, feature rate, feature name and ratio. */
export function printTable(title: string, rows: readonly (readonly [string, Compared, string])[]): void {
  const table = [
    ['figure', 'plain', 'with feature', 'feature', 'feature ÷ plain'],
    ...rows.map(([figure, { plain, feature, ratio }, name]) => [
      figure,
      Math.round(plain).toLocaleString('en-US'),
      Math.round(feature).toLocaleString('en-US'),
      name,
      `${ratio.toFixed(2)}×`,
    ]),
  ];
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  const line = (row: readonly string[]) =>
    `| ${row.map((cell, column) => (column === 0 || column === 3 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join(' | ')} |`;
  console.log(title);
  console.log(line(table[0]!));
  console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
  for (const row of table.slice(1)) console.log(line(row));
}
