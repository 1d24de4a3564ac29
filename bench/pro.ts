// What the Pro features cost, each as a ratio to plain jobs, on one PostgreSQL server:
// unique inserts vs plain inserts, and encrypted jobs processed vs plain jobs processed.
// Each figure runs on a fresh database, dropped afterwards. Public API only.
// Usage: npx tsx bench/pro.ts [--jobs 20000] [--runs 5] [--limit 1000]
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { defineWorker, type Job, Koban, newJob } from '../index.js';

const { values: flags } = parseArgs({
  options: { jobs: { type: 'string' }, runs: { type: 'string' }, limit: { type: 'string' } },
});
const jobs = Number(flags.jobs ?? 20_000);
const runs = Number(flags.runs ?? 5);
const limit = Number(flags.limit ?? 1000);
const baseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const logger = {
  info() {},
  warn() {},
  error: (message: string) => process.stderr.write(`  [koban] ${message}\n`),
};

let done: () => void = () => {};
let processed = 0;
const count = () => {
  if (++processed === jobs) done();
};

class PlainJob {
  async process(_job: Job<{ n: number; note: string }>) {
    count();
  }
}
defineWorker(PlainJob, { queue: 'bench' });

class UniqueJob {
  async process(_job: Job<{ n: number; note: string }>) {
    count();
  }
}
defineWorker(UniqueJob, { queue: 'bench', unique: { period: 3600, states: 'incomplete' } });

class EncryptedJob {
  async process(_job: Job<{ n: number; note: string }>) {
    count();
  }
}
defineWorker(EncryptedJob, { queue: 'bench', encrypted: { key: randomBytes(32) } });

const workers = [PlainJob, UniqueJob, EncryptedJob];
type Worker = (typeof workers)[number];
const specs = (worker: Worker) =>
  Array.from({ length: jobs }, (_, n) => newJob(worker, { n, note: `customer ${n % 977} order ${n}` }));

async function withDatabase<T>(work: (url: string) => Promise<T>): Promise<T> {
  const name = `koban_bench_pro_${randomBytes(4).toString('hex')}`;
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

/** Jobs per second for one insertAll of every job. */
function insertRate(worker: Worker): Promise<number> {
  return withDatabase(async (url) => {
    const koban = await Koban.start({ database: url, queues: {}, workers, logger });
    const batch = specs(worker);
    const started = performance.now();
    await koban.insertAll(batch);
    const seconds = (performance.now() - started) / 1000;
    await koban.stop();
    return jobs / seconds;
  });
}

/** Jobs per second from the start of a node to the last job processed, all jobs inserted first. */
function processRate(worker: Worker): Promise<number> {
  return withDatabase(async (url) => {
    const inserter = await Koban.start({ database: url, queues: {}, workers, logger });
    await inserter.insertAll(specs(worker));
    await inserter.stop();
    processed = 0;
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    const started = performance.now();
    const koban = await Koban.start({ database: url, queues: { bench: limit }, workers, logger });
    await finished;
    const seconds = (performance.now() - started) / 1000;
    await koban.stop();
    return jobs / seconds;
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * Runs plain and feature back to back in each round, so that a busy machine slows both alike;
 * the ratio reported is the median of the per-round ratios.
 */
async function compare(label: string, plain: () => Promise<number>, feature: () => Promise<number>) {
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

await insertRate(PlainJob); // warm up: JIT and connection set-up are not what is measured
const inserts = await compare(
  'insert',
  () => insertRate(PlainJob),
  () => insertRate(UniqueJob),
);
const processing = await compare(
  'process',
  () => processRate(PlainJob),
  () => processRate(EncryptedJob),
);

const rows = [
  [`insertAll ${jobs} (jobs/s)`, inserts, 'unique'],
  [`process ${jobs} (jobs/s)`, processing, 'encrypted'],
] as const;
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
console.log(
  `Koban Pro features: medians of ${runs} round(s); ratio = median of per-round ratios; queue limit ${limit}`,
);
console.log(line(table[0]!));
console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
for (const row of table.slice(1)) console.log(line(row));
