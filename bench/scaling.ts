// How processing scales: 100,000 no-op jobs run by 2 and 4 Koban processes on one database,
// against 1 process; and 20,000 jobs on a table that already holds 1,000,000 completed rows,
// against an empty table. Every node runs in a process of its own, loaded before the clock starts.
// Usage: npx tsx bench/scaling.ts [--runs 3] [--jobs 100000] [--history-jobs 20000]
//        [--history 1000000] [--limit 2000] [--processes 2,4]
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { Koban, newJob } from '../index.js';
import { type Compared, compare, printTable, quietLogger, withDatabase } from './rounds.js';
import { Noop } from './scaling-worker.js';

const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string' },
    jobs: { type: 'string' },
    'history-jobs': { type: 'string' },
    history: { type: 'string' },
    limit: { type: 'string' },
    processes: { type: 'string' },
  },
});
const runs = Number(flags.runs ?? 3);
const jobs = Number(flags.jobs ?? 100_000);
const historyJobs = Number(flags['history-jobs'] ?? 20_000);
const history = Number(flags.history ?? 1_000_000);
const limit = Number(flags.limit ?? 2000);
const processCounts = (flags.processes ?? '2,4').split(',').map(Number);
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const progress = (message: string) => process.stderr.write(`${message}\n`);
const fmt = (n: number) => n.toLocaleString('en-US');

async function insertJobs(url: string, count: number): Promise<void> {
  const koban = await Koban.start({ database: url, queues: {}, workers: [Noop], logger: quietLogger });
  for (let first = 0; first < count; first += 20_000) {
    const size = Math.min(20_000, count - first);
    await koban.insertAll(Array.from({ length: size }, (_, n) => newJob(Noop, { n: first + n })));
  }
  await koban.stop();
}

/** Completed rows as a node leaves them, inserted in SQL: the history a busy table carries. */
async function fillHistory(sql: postgres.Sql, rows: number): Promise<void> {
  for (let first = 1; first <= rows; first += 250_000) {
    const last = Math.min(rows, first + 249_999);
    await sql`
      INSERT INTO koban.jobs (state, queue, worker, args, attempt, attempted_at, completed_at, attempted_by)
      SELECT 'completed', 'bench', 'Noop', jsonb_build_object('n', g), 1, now(), now() - g * interval '1 ms', '{bench}'
      FROM generate_series(${first}::int, ${last}::int) g`;
    progress(`  history: ${fmt(last)}/${fmt(rows)} completed rows`);
  }
}

function startNode(url: string): ChildProcess {
  return spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'bench/scaling-node.ts'), url, String(limit)],
    {
      cwd: root,
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
}

async function ready(node: ChildProcess): Promise<void> {
  let out = '';
  for await (const chunk of node.stdout!) {
    out += String(chunk);
    if (out.includes('ready\n')) return;
  }
  throw new Error('a scaling node exited before it was ready');
}

/**
 * Jobs per second for `nodes` processes, from "go" until no job of the table is available or
 * executing; jobs inserted (and `historyRows` completed rows added) first, untimed.
 */
function rate(count: number, nodes: number, historyRows = 0): Promise<number> {
  return withDatabase('scaling', async (url) => {
    await insertJobs(url, count);
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      if (historyRows > 0) await fillHistory(sql, historyRows);
      // The same start for every variant: statistics, and no checkpoint due from the set-up's writes.
      await sql`VACUUM ANALYZE koban.jobs`;
      await sql`CHECKPOINT`;
      const children = Array.from({ length: nodes }, () => startNode(url));
      await Promise.all(children.map(ready));
      const started = performance.now();
      for (const child of children) child.stdin!.write('go\n');
      const ticker = setInterval(
        () => progress(`  ${nodes} node(s): ${((performance.now() - started) / 1000).toFixed(0)} s`),
        5000,
      );
      // Two EXISTS, each served by its partial index: one over both states scans the table.
      while (
        (
          await sql`SELECT EXISTS (SELECT 1 FROM koban.jobs WHERE state = 'available')
            OR EXISTS (SELECT 1 FROM koban.jobs WHERE state = 'executing') AS busy`
        )[0]!.busy
      ) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const seconds = (performance.now() - started) / 1000;
      clearInterval(ticker);
      for (const child of children) child.stdin!.write('stop\n');
      await Promise.all(children.map((child) => once(child, 'exit')));
      const [row] = await sql`SELECT count(*)::int AS completed FROM koban.jobs WHERE state = 'completed'`;
      const completed = Number(row?.completed);
      if (completed !== count + historyRows)
        throw new Error(`expected ${count + historyRows} completed jobs, found ${completed}`);
      return count / seconds;
    } finally {
      await sql.end();
    }
  });
}

progress(`scaling: ${runs} round(s), queue limit ${limit} per node`);
const rows: [string, Compared, string][] = [];
for (const nodes of processCounts) {
  const compared = await compare(
    `${nodes} processes`,
    runs,
    () => rate(jobs, 1),
    () => rate(jobs, nodes),
  );
  rows.push([`process ${fmt(jobs)}, ${nodes} processes against 1 (jobs/s)`, compared, `${nodes} processes`]);
}
const withHistory = await compare(
  'history',
  runs,
  () => rate(historyJobs, 1),
  () => rate(historyJobs, 1, history),
);
rows.push([
  `process ${fmt(historyJobs)}, ${fmt(history)} completed rows in the table (jobs/s)`,
  withHistory,
  `${fmt(history)} completed rows`,
]);
printTable(
  `Koban scaling: medians of ${runs} round(s), each against 1 process on an empty table in the same round; ratio = median of per-round ratios; queue limit ${limit} per process`,
  rows,
);
