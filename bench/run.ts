// Compares Koban with graphile-worker and pg-boss on one PostgreSQL server, in one run.
// Each library and scenario runs in a fresh child process on a fresh database, dropped afterwards.
// Usage: npm run bench -- [--only koban,graphile,pgboss] [--jobs 20000] [--big 100000] [--latency-jobs 200]
//        [--runs 3] [--koban-limits 1000,2000,5000] [--scenarios insert,process,latency] [--quick] [--no-pro] [--no-flows] [--no-scaling]
import { spawn } from 'node:child_process';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import type { Report } from './peers/harness.js';
import { median } from './stats.js';
import { cell, difference, fmtInt, fmtMs, formatTable, ratio } from './table.js';

const libs = { koban: 'Koban', graphile: 'graphile-worker', pgboss: 'pg-boss' } as const;
type Lib = keyof typeof libs;
type Scenario = 'insert' | 'process' | 'latency';
interface Figure {
  key: string;
  title: string;
  scenario: Scenario;
  n: number;
}

const { values: flags } = parseArgs({
  allowNegative: true,
  options: {
    only: { type: 'string' },
    jobs: { type: 'string' },
    big: { type: 'string' },
    'latency-jobs': { type: 'string' },
    runs: { type: 'string' },
    'koban-limits': { type: 'string' },
    'graphile-configs': { type: 'string' },
    scenarios: { type: 'string' },
    quick: { type: 'boolean', default: false },
    pro: { type: 'boolean', default: true },
    flows: { type: 'boolean', default: true },
    scaling: { type: 'boolean', default: true },
  },
});
const quick = flags.quick;
const num = (value: string | undefined, fallback: number) => (value === undefined ? fallback : Number(value));
const jobs = num(flags.jobs, quick ? 5_000 : 20_000);
const big = num(flags.big, quick ? 0 : 100_000);
const latencyJobs = num(flags['latency-jobs'], quick ? 50 : 200);
const runs = num(flags.runs, quick ? 1 : 3);
const kobanLimits = (flags['koban-limits'] ?? (quick ? '1000' : '1000,2000,5000')).split(',').map(Number);
// graphile-worker's `concurrentJobs:localQueue.size`: the configuration it was measured at before,
// and its best one on this machine (concurrency 500, local queue 1000).
const graphileConfigs = (flags['graphile-configs'] ?? '50:500,500:1000').split(',');
const scenarios = new Set((flags.scenarios ?? 'insert,process,latency').split(','));
const aliases: Record<string, Lib> = { 'graphile-worker': 'graphile', 'pg-boss': 'pgboss' };
const only = (flags.only ?? 'koban,graphile,pgboss').split(',').map((name) => aliases[name] ?? (name as Lib));
for (const lib of only) if (!(lib in libs)) throw new Error(`--only: unknown library ${lib}`);

const figures: Figure[] = [
  { key: 'insert', title: `bulk insert ${fmtInt(jobs)} (jobs/s)`, scenario: 'insert' as const, n: jobs },
  { key: 'process', title: `process ${fmtInt(jobs)} (jobs/s)`, scenario: 'process' as const, n: jobs },
  { key: 'processBig', title: `process ${fmtInt(big)} (jobs/s)`, scenario: 'process' as const, n: big },
  { key: 'latency', title: `insert→start ${latencyJobs} jobs`, scenario: 'latency' as const, n: latencyJobs },
].filter((f) => scenarios.has(f.scenario) && f.n > 0);

const baseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const progress = (message: string) => process.stderr.write(`${message}\n`);

let current: { db: string; kill?: () => void } | undefined;
process.on('SIGINT', async () => {
  current?.kill?.();
  if (current) await admin.unsafe(`drop database if exists "${current.db}" with (force)`).catch(() => {});
  process.exit(130);
});

/** Runs one scenario of one library in a fresh process on a fresh database. */
async function runChild(lib: Lib, figure: Figure, option?: string): Promise<Report | undefined> {
  const db = `koban_bench_${lib}_${figure.key.toLowerCase()}_${process.pid}`;
  await admin.unsafe(`drop database if exists "${db}" with (force)`);
  await admin.unsafe(`create database "${db}"`);
  const url = new URL(baseUrl);
  url.pathname = `/${db}`;
  current = { db };
  try {
    const args = [
      '--import',
      'tsx',
      join(root, 'bench/peers', `${lib}.ts`),
      figure.scenario,
      url.href,
      String(figure.n),
    ];
    const child = spawn(process.execPath, option ? [...args, option] : args, {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    current.kill = () => child.kill('SIGKILL');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10 * 60_000);
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    const last = out.trim().split('\n').pop();
    if (code !== 0 || !last) {
      progress(`  ${libs[lib]} ${figure.key} failed (exit ${code})`);
      return undefined;
    }
    return JSON.parse(last) as Report;
  } finally {
    current = undefined;
    await admin.unsafe(`drop database if exists "${db}" with (force)`);
  }
}

// Values are kept per figure, library and metric, one per run: `process/graphile/rate`.
// Koban's processing is kept per queue limit (`process/koban@500/rate`), then the best is copied to `koban`.
const values = new Map<string, number[]>();
const settingsOf = new Map<string, string>();
/** The setting kept for a figure and library: `process/koban` → '2000'. */
const chosen = new Map<string, string>();
const get = (key: string) => values.get(key) ?? [];
const push = (key: string, value: number) => values.set(key, [...get(key), value]);

/** The settings a library is measured at for a figure; for processing, the best is kept. */
function options(lib: Lib, figure: Figure): (string | undefined)[] {
  if (lib === 'pgboss') return [figure.scenario === 'latency' ? '100' : '500'];
  if (figure.scenario === 'insert') return [undefined];
  const tried = lib === 'koban' ? kobanLimits.map(String) : graphileConfigs;
  if (figure.scenario === 'process') return tried;
  return [chosen.get(`process/${lib}`) ?? chosen.get(`processBig/${lib}`) ?? tried.at(-1)];
}

const describe = (r: Report) =>
  'rate' in r
    ? `${fmtInt(r.rate)} jobs/s`
    : `p50 ${fmtMs(r.p50)} / p95 ${fmtMs(r.p95)} / p99 ${fmtMs(r.p99)} ms`;

for (const figure of figures) {
  for (let run = 1; run <= runs; run++) {
    // Rotate the order so that no library always runs first on a cold server.
    const order = only.map((_, i) => only[(i + run - 1) % only.length]!);
    for (const lib of order) {
      for (const option of options(lib, figure)) {
        const perOption = lib !== 'pgboss' && figure.scenario === 'process';
        const id = perOption ? `${lib}@${option}` : lib;
        const label = `${libs[lib]}${perOption ? ` (${option})` : ''}`;
        progress(`[${figure.key} run ${run}/${runs}] ${label}: ${figure.scenario} ${fmtInt(figure.n)} jobs…`);
        const report = await runChild(lib, figure, option);
        if (!report) continue;
        progress(`[${figure.key} run ${run}/${runs}] ${label}: ${describe(report)}`);
        for (const [metric, value] of Object.entries(report)) {
          if (typeof value === 'number') push(`${figure.key}/${id}/${metric}`, value);
        }
        settingsOf.set(`${figure.key}/${id}`, report.settings);
      }
    }
  }
  if (figure.scenario === 'process') {
    for (const lib of only.filter((name) => name !== 'pgboss')) {
      const tried = (lib === 'koban' ? kobanLimits.map(String) : graphileConfigs).map((option) => ({
        option,
        rates: get(`${figure.key}/${lib}@${option}/rate`),
      }));
      const [best] = tried
        .filter((t) => t.rates.length > 0)
        .sort((a, b) => median(b.rates) - median(a.rates));
      if (!best) continue;
      chosen.set(`${figure.key}/${lib}`, best.option);
      values.set(`${figure.key}/${lib}/rate`, best.rates);
      settingsOf.set(`${figure.key}/${lib}`, settingsOf.get(`${figure.key}/${lib}@${best.option}`)!);
      const list = tried.map((t) => `${t.option}: ${t.rates.length ? fmtInt(median(t.rates)) : 'failed'}`);
      progress(`${libs[lib]} settings for ${figure.title}: ${list.join(', ')} jobs/s; best ${best.option}`);
    }
  }
}

// The table.
const shown = (Object.keys(libs) as Lib[]).filter((lib) => only.includes(lib));
const peers = shown.includes('koban') ? shown.filter((lib) => lib !== 'koban') : []; // ratio columns
const header = ['figure', ...shown.map((lib) => libs[lib]), ...peers.map((lib) => `Koban ÷ ${libs[lib]}`)];
const rows: string[][] = [];
for (const figure of figures) {
  const metrics = figure.scenario === 'latency' ? ['p50', 'p95', 'p99'] : ['rate'];
  for (const metric of metrics) {
    const of = (lib: Lib) => get(`${figure.key}/${lib}/${metric}`);
    const isRate = metric === 'rate';
    let title = isRate ? figure.title : `${figure.title}, ${metric} (ms)`;
    if (isRate && chosen.has(`${figure.key}/koban`))
      title += ` [Koban limit ${chosen.get(`${figure.key}/koban`)}]`;
    rows.push([
      title,
      ...shown.map((lib) => cell(of(lib), isRate ? fmtInt : fmtMs)),
      ...peers.map((lib) => (isRate ? ratio : difference)(of('koban'), of(lib))),
    ]);
  }
}

const [{ version }] = (await admin`select current_setting('server_version') as version`) as unknown as [
  { version: string },
];
await admin.end();
const lines = [
  '',
  `Koban benchmark: PostgreSQL ${version}, Node ${process.version}, ${os.cpus().length} cores; ` +
    `median of ${runs} run${runs === 1 ? '' : 's'} (range in parentheses), each in a fresh process on a fresh database.`,
  '',
  formatTable(header, rows),
  '',
  'Throughput columns Koban ÷ peer: above 1× means Koban is faster. Latency columns: Koban − peer in ms (negative: Koban is faster).',
  'Processing: jobs inserted and ANALYZEd first (untimed), then timed from worker start until every job is completed',
  'in the database. Latency: from just before the insert call to the start of the handler, in the same process, with',
  'workers idle before the first insert, jobs 20 ms apart.',
  'Koban and pg-boss keep completed rows (state completed); graphile-worker deletes a job when it completes.',
  '',
  'Settings (the peers run with their best settings, not their defaults):',
  ...shown.flatMap((lib) => {
    const uses = new Map<string, string[]>();
    for (const figure of figures.filter((f) => f.scenario !== 'insert')) {
      const text = settingsOf.get(`${figure.key}/${lib}`);
      if (text) uses.set(text, [...(uses.get(text) ?? []), figure.title.replace(/ \(.*\)$/, '')]);
    }
    return [...uses].map(([text, titles]) => `- ${libs[lib]} (${titles.join(' / ')}): ${text}`);
  }),
];
if (chosen.size > 0) {
  lines.push(`- Koban queue limits tried for processing: ${kobanLimits.join(', ')}; the best is shown.`);
  lines.push(
    `- graphile-worker concurrentJobs:localQueue.size tried for processing: ${graphileConfigs.join(', ')}; the best is shown.`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);

/** Runs one of the Koban-only row scripts (pro.ts, flows.ts), which prints its own table. */
async function rowsOf(script: string, args: readonly string[]): Promise<void> {
  process.stdout.write('\n');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench', script), ...args], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`bench/${script} exited with ${code}`)),
    );
  });
}

// The Pro rows: what unique inserts and encrypted jobs cost, each as a ratio to plain jobs.
if (flags.pro && only.includes('koban')) {
  progress('Pro features: unique inserts and encrypted jobs against plain jobs...');
  await rowsOf('pro.ts', ['--jobs', String(jobs), '--runs', String(runs)]);
}
// Workflows and batches, each as a ratio to as many plain jobs.
if (flags.flows && only.includes('koban')) {
  progress('Workflows and batches against plain jobs...');
  await rowsOf('flows.ts', [
    '--runs',
    String(runs),
    ...(quick ? ['--width', '2000', '--chain', '200', '--small', '200', '--batch', '5000'] : []),
  ]);
}
// Scaling: 2 and 4 processes against 1, and a table holding 1,000,000 completed rows against an empty one.
if (flags.scaling && only.includes('koban')) {
  progress('Scaling: several processes, and a table with a long history...');
  await rowsOf('scaling.ts', [
    '--runs',
    String(runs),
    ...(quick ? ['--jobs', '20000', '--history', '100000', '--history-jobs', '5000'] : []),
  ]);
}
