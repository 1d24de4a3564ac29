import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type InsertedJob,
  type Job,
  Koban,
  KobanWorkflowError,
  newJob,
  Recorded,
  Worker,
  workflow,
} from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { quietLogger } from '../support/wait.js';
import { backends, startOn } from './support.js';

// Unique workflows: a workflow with a unique key is inserted once (within its period); a second
// insert returns the existing workflow's jobs, marked as a conflict, and writes nothing.

@Worker({ queue: 'unique_flows' })
@Recorded()
class Step {
  async process(job: Job<{ n: number }>): Promise<number> {
    return job.args.n;
  }
}

const flowOf = (key: string, options: { period?: number | 'infinity'; n?: number } = {}) =>
  workflow({ unique: { key, ...(options.period === undefined ? {} : { period: options.period }) } })
    .add('a', newJob(Step, { n: options.n ?? 1 }))
    .add('b', newJob(Step, { n: 2 }), { deps: ['a'] });

describe.each(backends)('unique workflows on %s', (backend) => {
  let koban: Koban;

  beforeAll(async () => {
    // No queue runs: the workflows stay as inserted.
    koban = await startOn(backend, { queues: {}, workers: [Step] });
  });

  it('a second insert under the key returns the first workflow, marked as a conflict', async () => {
    const first = await koban.insertAll(flowOf('import-1'));
    expect(first.map((job) => job.conflict)).toEqual([false, false]);
    const second = await koban.insertAll(flowOf('import-1', { n: 5 }));
    expect(second.map((job) => job.conflict)).toEqual([true, true]);
    expect(second.map((job) => job.id)).toEqual(first.map((job) => job.id));
    expect(second[0]!.args).toEqual({ n: 1 });
    const other = await koban.insertAll(flowOf('import-2'));
    expect(other.map((job) => job.conflict)).toEqual([false, false]);
    expect(await koban.listJobs({ workflowId: first[0]!.workflowId! })).toHaveLength(2);
  });

  it('a workflow older than the period no longer blocks the key', async () => {
    const first = await koban.insertAll(flowOf('periodic', { period: 60 }));
    const blocked = await koban.insertAll(flowOf('periodic', { period: 60 }));
    expect(blocked[0]!.workflowId).toBe(first[0]!.workflowId);
    // As if the first had been inserted two minutes ago.
    await koban.db.execute(
      `UPDATE ${koban.schema}.workflows SET inserted_at = now() - interval '2 minutes' WHERE id = '${first[0]!.workflowId}'`,
    );
    const later = await koban.insertAll(flowOf('periodic', { period: 60 }));
    expect(later[0]!.conflict).toBe(false);
    expect(later[0]!.workflowId).not.toBe(first[0]!.workflowId);
    const again = await koban.insertAll(flowOf('periodic', { period: 60 }));
    expect(again[0]!.workflowId).toBe(later[0]!.workflowId);
  });

  it('rejects a bad unique option where the workflow is built', () => {
    expect(() => workflow({ unique: { key: '' } })).toThrow(KobanWorkflowError);
    expect(() => workflow({ unique: { key: 'k', period: -1 } })).toThrow(
      "workflow(): unique.period must be a positive number of seconds or 'infinity', got -1",
    );
    expect(() => workflow({ unique: 'k' as never })).toThrow(/unique must be an object/);
  });
});

describe('unique workflows racing on the server', () => {
  let url: string;
  let nodes: Koban[];

  beforeAll(async () => {
    url = await freshDatabase();
    // Six nodes, each with its own pool: the inserts really race on the server.
    nodes = await Promise.all(
      Array.from({ length: 6 }, () =>
        Koban.start({ database: url, queues: {}, logger: quietLogger, poolSize: 4, workers: [Step] }),
      ),
    );
  });

  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  });

  it('exactly one of many concurrent inserts of a unique workflow goes in', async () => {
    for (const key of ['race-1', 'race-2', 'race-3']) {
      const results: InsertedJob[][] = await Promise.all(
        Array.from({ length: 24 }, (_, index) => nodes[index % nodes.length]!.insertAll(flowOf(key))),
      );
      const winners = results.filter((jobs) => !jobs[0]!.conflict);
      expect(winners).toHaveLength(1);
      const ids = new Set(results.map((jobs) => jobs[0]!.workflowId));
      expect(ids).toEqual(new Set([winners[0]![0]!.workflowId]));
      for (const jobs of results) expect(jobs.map((job) => job.id)).toEqual(winners[0]!.map((job) => job.id));
    }
    const counts = await withSql(
      url,
      (sql) =>
        sql`SELECT unique_key, count(*)::int AS n FROM koban.workflows GROUP BY unique_key ORDER BY unique_key`,
    );
    expect(counts.map((row) => [row.unique_key, row.n])).toEqual([
      ['race-1', 1],
      ['race-2', 1],
      ['race-3', 1],
    ]);
    const jobs = await withSql(url, (sql) => sql`SELECT count(*)::int AS n FROM koban.jobs`);
    expect(jobs[0]!.n).toBe(6);
  }, 60_000);
});
