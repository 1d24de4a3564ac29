import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { type Job, Koban, newJob, Worker } from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { quietLogger, waitFor } from '../support/wait.js';

// Three nodes work through one backlog of chunked jobs while more is inserted: the queues' own
// claims and every open chunk's claims race for the same rows. Each chunk writes its jobs to a
// side table inside process, so a job in two chunks, or run twice, shows as a second row.

const total = 1500;
const size = 40;
let sql: postgres.Sql | undefined;
const nodes: Koban[] = [];

afterAll(async () => {
  await Promise.allSettled(nodes.map((node) => node.stop()));
  await sql?.end();
});

@Worker({ queue: 'rows', chunk: { size, timeout: 200, by: { args: ['shard'] } } })
class ShardRows {
  async process(jobs: Job<{ shard: number; n: number }>[]) {
    const chunk = randomUUID();
    await sql!`
      INSERT INTO chunk_runs (job_id, chunk, node, shard)
      SELECT id::bigint, ${chunk}, ${jobs[0]!.attemptedBy.at(-1)!}, shard
      FROM unnest(${jobs.map((job) => job.id)}::text[], ${jobs.map((job) => job.args.shard)}::int[]) AS t(id, shard)`;
  }
}

describe('chunk workers on three nodes', () => {
  it('put every job of a backlog in exactly one chunk, run once', async () => {
    const url = await freshDatabase();
    sql = postgres(url, { max: 4, onnotice: () => {} });
    await sql`CREATE TABLE chunk_runs (job_id bigint, chunk text, node text, shard int)`;
    const start = (node: string) =>
      Koban.start({ database: url, node, logger: quietLogger, queues: { rows: 3 }, workers: [ShardRows] });
    nodes.push(...(await Promise.all(['n1', 'n2', 'n3'].map(start))));
    const jobs = Array.from({ length: total }, (_, n) => newJob(ShardRows, { shard: n % 3, n }));
    // In slices, from every node: chunks open while more arrives.
    for (let slice = 0; slice < 10; slice++) {
      await nodes[slice % 3]!.insertAll(jobs.slice(slice * (total / 10), (slice + 1) * (total / 10)));
    }
    await waitFor(
      'every job to complete',
      async () => {
        const [row] = await sql!<{ done: number }[]>`
          SELECT count(*)::int AS done FROM koban.all_jobs WHERE state = 'completed'`;
        return row!.done === total;
      },
      60_000,
    );
    const [summary] = await sql<{ rows: number; jobs: number; nodes: number }[]>`
      SELECT count(*)::int AS rows, count(DISTINCT job_id)::int AS jobs, count(DISTINCT node)::int AS nodes
      FROM chunk_runs`;
    expect(summary).toMatchObject({ rows: total, jobs: total });
    expect(summary!.nodes).toBeGreaterThan(1);
    const chunks = await sql<{ jobs: number; shards: number }[]>`
      SELECT count(*)::int AS jobs, count(DISTINCT shard)::int AS shards FROM chunk_runs GROUP BY chunk`;
    expect(chunks.every((chunk) => chunk.jobs <= size && chunk.shards === 1)).toBe(true);
    const attempts = await withSql(
      url,
      (db) => db<{ attempt: number }[]>`SELECT DISTINCT attempt FROM koban.all_jobs`,
    );
    expect(attempts.map((row) => row.attempt)).toEqual([1]);
  });
});
