// The dashboard's pages on a table of 1,000,000 jobs: p50/p95 per page, read through the Fetch
// handler as a browser reads them (the cache is off: each request runs its statements).
//   npm run bench -- --only pages [--pages-rows 1000000] [--pages-reps 20]
//   npx tsx bench/dashboard-pages.ts [--rows 1000000] [--reps 20] [--database postgres://…]
import os from 'node:os';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { Koban } from '../index.js';
import { kobanDashboard } from '../web/index.js';

const { values } = parseArgs({
  options: { rows: { type: 'string' }, reps: { type: 'string' }, database: { type: 'string' } },
});
const rows = Number(values.rows ?? 1_000_000);
const reps = Number(values.reps ?? 20);
const admin = values.database ?? 'postgres://postgres@127.0.0.1:5432/test';
const name = `koban_bench_pages_${process.pid}`;
const url = new URL(admin);
const sql = postgres(admin, { max: 1, onnotice: () => {} });
await sql.unsafe(`CREATE DATABASE ${name}`);
url.pathname = `/${name}`;
try {
  const node = await Koban.start({ database: url.toString(), logger: { info() {}, warn() {}, error() {} } });
  await node.stop();
  const db = postgres(url.toString(), { max: 1, onnotice: () => {} });
  const started = Date.now();
  // 95% finished (in the history), 5% waiting in the hot table, over 8 queues and 20 workers.
  const finished = Math.floor(rows * 0.95);
  await db.unsafe(`
    INSERT INTO koban.job_history (id, state, queue, worker, args, meta, tags, errors, attempt, max_attempts, priority,
      inserted_at, scheduled_at, attempted_at, completed_at, discarded_at, attempted_by, finished_at)
    SELECT n, CASE WHEN n % 50 = 0 THEN 'discarded' ELSE 'completed' END, 'queue' || (n % 8), 'Worker' || (n % 20),
      jsonb_build_object('userId', n, 'email', 'user' || n || '@example.com'), '{}', ARRAY['t' || (n % 5)], '{}', 1, 20, 0,
      now() - interval '1 hour', now() - interval '1 hour', now(), CASE WHEN n % 50 = 0 THEN NULL ELSE now() END,
      CASE WHEN n % 50 = 0 THEN now() END, '{bench}', now()
    FROM generate_series(1, ${finished}) n`);
  await db.unsafe(`
    INSERT INTO koban.jobs (id, state, queue, worker, args, scheduled_at)
    SELECT n, 'available', 'queue' || (n % 8), 'Worker' || (n % 20), jsonb_build_object('userId', n, 'email', 'user' || n || '@example.com'), now()
    FROM generate_series(${finished + 1}, ${rows}) n`);
  await db.unsafe(`SELECT setval('koban.jobs_id_seq', ${rows})`);
  await db.unsafe('VACUUM ANALYZE koban.jobs');
  await db.unsafe('VACUUM ANALYZE koban.job_history');
  const [{ server_version: version }] = (await db.unsafe('SHOW server_version')) as unknown as [
    { server_version: string },
  ];
  await db.end();
  console.log(
    `${rows.toLocaleString('en-US')} jobs loaded in ${((Date.now() - started) / 1000).toFixed(1)} s; PostgreSQL ${version}`,
  );
  const loadBefore = os.loadavg()[0]!;

  const ops = await Koban.connect({ database: url.toString(), statementTimeout: 30_000 });
  const dashboard = kobanDashboard({ ops, basePath: '', refreshInterval: 1 });
  const deep = (await ops.searchJobs({}, { limit: 50 })).next;
  const pages: [string, string][] = [
    ['overview', '/api/overview'],
    ['jobs, first page', '/api/jobs'],
    ['jobs, next page', `/api/jobs?cursor=${deep}`],
    ['jobs by state (discarded)', '/api/jobs?state=discarded'],
    ['jobs by queue', '/api/jobs?queue=queue3'],
    ['search args, common text', '/api/jobs?args=example.com'],
    ['search args, one job (first window)', `/api/jobs?args=user${Math.floor(rows / 3)}@`],
    ['search args, no match (first window)', '/api/jobs?args=nobody-has-this'],
  ];
  const quantile = (sorted: number[], q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  console.log(`\n| page | p50 ms | p95 ms |\n| --- | ---: | ---: |`);
  for (const [label, path] of pages) {
    const times: number[] = [];
    for (let rep = 0; rep < reps; rep++) {
      const at = performance.now();
      const response = await dashboard.fetch(new Request(`http://bench${path}`));
      if (!response.ok) throw new Error(`${label}: HTTP ${response.status} ${await response.text()}`);
      await response.arrayBuffer();
      times.push(performance.now() - at);
    }
    times.sort((a, b) => a - b);
    console.log(`| ${label} | ${quantile(times, 0.5).toFixed(1)} | ${quantile(times, 0.95).toFixed(1)} |`);
  }
  // A text of one old job: each page reads a window of ids, says where it stopped, and the next
  // goes on below; timed from the first page to the one that finds the job.
  const walks: number[] = [];
  let pagesRead = 0;
  for (let rep = 0; rep < Math.min(reps, 5); rep++) {
    const at = performance.now();
    let path = `/api/jobs?args=user${Math.floor(rows / 3)}@`;
    for (pagesRead = 1; ; pagesRead++) {
      const page = (await (await dashboard.fetch(new Request(`http://bench${path}`))).json()) as {
        jobs: unknown[];
        next: string | null;
      };
      if (page.jobs.length > 0 || !page.next) break;
      path = `/api/jobs?args=user${Math.floor(rows / 3)}@&cursor=${page.next}`;
    }
    walks.push(performance.now() - at);
  }
  walks.sort((a, b) => a - b);
  console.log(
    `| search args, one job: the ${pagesRead} pages down to it | ${quantile(walks, 0.5).toFixed(1)} | ${quantile(walks, 0.95).toFixed(1)} |`,
  );
  console.log(
    `\nMachine load (1-minute load average, ${os.cpus().length} cores): ${loadBefore.toFixed(1)} before the reads, ${os.loadavg()[0]!.toFixed(1)} after.`,
  );
  await ops.close();
} finally {
  await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await sql.end();
}
