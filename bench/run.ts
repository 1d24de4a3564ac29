// `npm run bench`: Koban against graphile-worker, pg-boss, BullMQ and the SQL ceiling on one
// PostgreSQL server, then Koban's features against plain Koban; every case in a fresh process on
// a fresh database, Koban from a compiled build, repetitions alternated. See bench/README.md.
// The dashboard's pages on a million jobs run only when named: --only pages (bench/dashboard-pages.ts).
// Usage: npm run bench -- [--only insert,processing,...,pages] [--systems koban,graphile,...] [--reps 5]
//        [--jobs 20000] [--big 100000] [--against <git ref>] [--quick] [--json results.json] ...
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildChildren, buildRef, buildWorkingTree, type RefBuild } from './build.js';
import { parseFlags } from './flags.js';
import { runPagesRow } from './pages-row.js';
import { type Case, plan } from './plan.js';
import { featureTable, legend, noise, peerTable } from './print.js';
import type { Report } from './report.js';
import { Results } from './results.js';
import { ChildRunner } from './spawn.js';
import { median } from './stats.js';
import { fmtInt, fmtMs, fmtUs } from './table.js';

const config = parseFlags(process.argv.slice(2));
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const baseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const progress = (message: string) => process.stderr.write(`${message}\n`);

const refLabel = config.against;
const rows = plan(config, refLabel);
if (rows.length === 0 && !config.pages)
  throw new Error('nothing to measure: --only and --systems select no row');
if (rows.length === 0) {
  // The pages row alone: reads of the working tree's dashboard, no build and no peers.
  const pages = await runPagesRow(config, root, baseUrl, progress);
  process.stdout.write(`\n${pagesTitle()}\n\n${pages}\n`);
  process.exit(0);
}
const distA = await buildWorkingTree(root, progress);
const ref: RefBuild | undefined = config.against ? await buildRef(root, config.against, progress) : undefined;
const children = await buildChildren(root);

const runner = new ChildRunner(baseUrl, children, { KOBAN_QUEUE_LIMIT: String(config.kobanLimits[0]) });
process.on('SIGINT', () => {
  runner.abort().finally(() => process.exit(130));
});

const describe = (report: Report | undefined) => {
  if (!report) return 'failed';
  if (report.p50 !== undefined) return `p50 ${fmtMs(report.p50)} / p99 ${fmtMs(report.p99!)} ms`;
  return `${fmtInt(report.rate!)} jobs/s · Node ${fmtUs(report.nodeUs!)} · DB ${fmtUs(report.dbUs!)} µs/job`;
};
const minutes = (ms: number) => `${(ms / 60_000).toFixed(1)} min`;
function pagesTitle() {
  return `The dashboard's pages on ${config.pagesRows.toLocaleString('en-US')} jobs, ${config.pagesReps} reads of each (Node ${process.version}, ${os.cpus().length} cores):`;
}

const results = new Results();
/** The 1-minute load average before each measurement: how busy the shared machine was. */
const loads: number[] = [];
const total = rows.reduce((sum, row) => sum + row.cases.length * config.reps, 0);
const started = Date.now();
let done = 0;
progress(
  `${total} measurements: ${rows.map((row) => row.name).join(', ')}; ${config.reps} repetition(s) each`,
);
for (const row of rows) {
  for (let rep = 0; rep < config.reps; rep++) {
    // Rotate the order so that no case always runs first, or always right after the same one.
    const order: Case[] = row.cases.map((_, i) => row.cases[(i + rep) % row.cases.length]!);
    for (const item of order) {
      const elapsed = Date.now() - started;
      const eta = done === 0 ? '' : `, about ${minutes((elapsed / done) * (total - done))} to go`;
      progress(
        `[${++done}/${total} · ${minutes(elapsed)}${eta}] ${row.name} rep ${rep + 1}/${config.reps}: ${item.label}`,
      );
      loads.push(os.loadavg()[0]!);
      const dist = item.build === 'B' ? ref!.dist : distA;
      const report = await runner.measure({ ...item.measurement, dist });
      results.add(row, item, rep, report);
      progress(`  → ${describe(report)}`);
    }
  }
}

const version = await runner.serverVersion();
await runner.close();
const pages = config.pages ? await runPagesRow(config, root, baseUrl, progress) : undefined;
const peerRows = rows.filter((row) => row.kind === 'peers');
const featureRows = rows.filter((row) => row.kind === 'feature');
const out = [
  '',
  `Koban benchmark, ${new Date().toISOString().slice(0, 10)}: PostgreSQL ${version}, Node ${process.version}, ` +
    `${os.cpus().length} cores; median of ${config.reps} alternated repetition(s) per case, each in a fresh process ` +
    `on a fresh database, ${minutes(Date.now() - started)} in all.`,
  ...(ref
    ? [`A/B: the working tree against ${refLabel} (${ref.sha.slice(0, 7)}); ÷ columns are medians divided.`]
    : []),
  `Machine load (1-minute load average before each measurement, ${os.cpus().length} cores): median ` +
    `${median(loads).toFixed(1)}, highest ${Math.max(...loads).toFixed(1)}. ${noise(rows, results) ?? ''}`,
  '',
  ...peerRows.flatMap((row) => [peerTable(row, results, refLabel), '']),
  ...(featureRows.length > 0 ? [featureTable(featureRows, results, refLabel), ''] : []),
  ...(pages ? [pagesTitle(), '', pages, ''] : []),
  'Processing: jobs inserted and ANALYZEd first (untimed), then timed from the worker start until every job is',
  'completed in the database. Latency: from just before the insert call to the start of the handler, in the same',
  'process, workers idle before the first insert. Node µs/job: CPU (user + system) of the process running the',
  "workers; DB µs/job: CPU of the PostgreSQL backends serving the bench database (redis-server's for BullMQ on",
  'Redis), from /proc. ÷ best graphile: against the fastest graphile-worker setting of the same table.',
  '',
  'Settings:',
  ...legend(rows, results),
];
process.stdout.write(`${out.join('\n')}\n`);
if (config.json)
  writeFileSync(
    config.json,
    `${JSON.stringify({ config: { ...config, rows: [...config.rows], systems: [...config.systems] }, results }, null, 2)}\n`,
  );
