// Whether a rate limit holds its rate: two Koban nodes (each with its own pool) share a queue of
// `--allowed` starts per second for `--seconds` seconds, with more jobs than that waiting, and
// the starts are counted per second in the database. Run alone, on demand:
//   npx tsx bench/rate-limit.ts [--allowed 100] [--seconds 60]
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { defineWorker, type Job, Koban, newJob } from '../index.js';

const { values } = parseArgs({
  options: { allowed: { type: 'string', default: '100' }, seconds: { type: 'string', default: '60' } },
});
const allowed = Number(values.allowed);
const seconds = Number(values.seconds);
if (!(Number.isInteger(allowed) && allowed > 0 && Number.isInteger(seconds) && seconds > 1)) {
  throw new Error(
    `--allowed and --seconds take positive integers (seconds at least 2), got ${allowed} and ${seconds}`,
  );
}

const server = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const name = `koban_rate_${process.pid}`;
const admin = postgres(server, { max: 1, onnotice: () => {} });
await admin.unsafe(`CREATE DATABASE ${name}`);
const url = new URL(server);
url.pathname = `/${name}`;

class Rated {
  async process(_job: Job<{ n: number }>) {}
}
defineWorker(Rated, { queue: 'rated' });

const logger = { info() {}, warn() {}, error: (details: unknown) => console.error(details) };
const queues = { rated: { limit: 50, rateLimit: { allowed, period: 1 } } };
try {
  const inserter = await Koban.start({ database: url.toString(), workers: [Rated], logger, queues: {} });
  await inserter.insertAll(Array.from({ length: allowed * (seconds + 5) }, (_, n) => newJob(Rated, { n })));
  await inserter.stop();
  const nodes = await Promise.all(
    ['one', 'two'].map((node) =>
      Koban.start({ database: url.toString(), node, workers: [Rated], logger, queues, poolSize: 4 }),
    ),
  );
  process.stdout.write(`two nodes, rate limit ${allowed}/s, ${seconds} s…\n`);
  await new Promise((resolve) => setTimeout(resolve, (seconds + 1) * 1000));
  await Promise.all(nodes.map((koban) => koban.stop()));
  const sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
  // Whole seconds after the first start, the last (partial) one left out.
  const [row] = await sql<{ starts: number; busiest: number; byNode: string }[]>`
    WITH starts AS (
      SELECT attempted_at, attempted_by[1] AS node FROM koban.all_jobs WHERE attempted_at IS NOT NULL
    ), first_start AS (
      SELECT min(attempted_at) AS t0 FROM starts
    ), counted AS (
      SELECT s.* FROM starts s, first_start w WHERE s.attempted_at < w.t0 + ${seconds} * interval '1 second'
    )
    SELECT (SELECT count(*)::int FROM counted) AS starts,
      (SELECT max(n)::int FROM (SELECT count(*) AS n FROM counted c, first_start w
        GROUP BY floor(date_part('epoch', c.attempted_at - w.t0))) per_second) AS busiest,
      (SELECT string_agg(node || ' ' || n, ', ') FROM (SELECT node, count(*) AS n FROM counted GROUP BY node) by_node) AS "byNode"`;
  await sql.end();
  const expected = allowed * seconds;
  process.stdout.write(
    `${row!.starts} starts in ${seconds} s (${(row!.starts / seconds).toFixed(1)}/s, ` +
      `${(((row!.starts - expected) / expected) * 100).toFixed(2)}% against ${allowed}/s); ` +
      `busiest second ${row!.busiest}; by node: ${row!.byNode}\n`,
  );
} finally {
  await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}
