import { beforeEach, describe, expect, it } from 'vitest';
import { discard, type Job, KobanValidationError, newJob, Worker } from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';

// Retention rules changed at run time (DynamicPruner): per queue, worker and final state, the
// closest rule of each finished job decides how long it is kept, over prune.maxAge.

@Worker({ queue: 'alpha', maxAttempts: 1 })
class Plain {
  async process(job: Job<{ fail?: boolean }>) {
    if (job.args.fail) return discard('asked to');
  }
}

@Worker({ queue: 'beta' })
class Audit {
  async process(_job: Job<Record<string, never>>) {}
}

@Worker({ queue: 'beta' })
class Report {
  async process(_job: Job<Record<string, never>>) {}
}

let url: string;
beforeEach(async () => {
  url = await freshDatabase();
});

/** The finished jobs kept, as `worker/state` sorted. */
const kept = () =>
  withSql(url, async (sql) => {
    const rows = await sql<{ key: string }[]>`
      SELECT worker || '/' || state AS key FROM koban.job_history ORDER BY 1`;
    return rows.map((row) => row.key);
  });

describe('retention rules', () => {
  it('keeps each finished job as long as its closest rule says, and follows changes at run time', async () => {
    const options = {
      database: url,
      queues: { alpha: 4, beta: 4 },
      workers: [Plain, Audit, Report],
      // Three hours by default; every job below finished two hours ago.
      prune: { maxAge: 3 * 3600, interval: 150, limit: 1000 },
    };
    const koban = await startKoban({ ...options, node: 'pruning' });
    await koban.pruner.set({ state: 'discarded' }, 3600);
    await koban.pruner.set({ queue: 'beta' }, 3600);
    await koban.pruner.set({ worker: Audit }, 'infinity');
    await koban.insertAll([
      newJob(Plain, {}),
      newJob(Plain, { fail: true }),
      newJob(Audit, {}),
      newJob(Report, {}),
    ]);
    await waitFor('every job to finish', async () => (await kept()).length === 4, 30_000);
    await withSql(url, (sql) => sql`UPDATE koban.job_history SET finished_at = now() - interval '2 hours'`);

    // Discarded (a state rule) and Report (its queue's rule) go; Audit's worker rule beats its queue's.
    await waitFor('the first prune', async () => (await kept()).length === 2, 30_000);
    expect(await kept()).toEqual(['Audit/completed', 'Plain/completed']);

    expect(
      (await koban.pruner.list()).map((rule) => [rule.worker, rule.queue, rule.state, rule.maxAge]),
    ).toEqual([
      ['Audit', null, null, 'infinity'],
      [null, 'beta', null, 3600],
      [null, null, 'discarded', 3600],
    ]);

    // Stored: a node started now sees the rules, and changes them for every node.
    const other = await startKoban({ ...options, queues: {}, node: 'other' });
    expect(await other.pruner.list()).toHaveLength(3);
    await other.pruner.set({ queue: 'alpha' }, 3600);
    await waitFor('alpha to go', async () => (await kept()).length === 1, 30_000);
    expect(await kept()).toEqual(['Audit/completed']);
    expect(await other.pruner.delete({ worker: 'Audit' })).toBe(true);
    expect(await other.pruner.delete({ worker: 'Audit' })).toBe(false);
    await waitFor('Audit to fall back on its queue rule', async () => (await kept()).length === 0, 30_000);
  }, 120_000);

  it('rejects rules that match nothing or say nothing', async () => {
    const koban = await startKoban({ database: url, queues: {} });
    await expect(koban.pruner.set({}, 60)).rejects.toThrow(
      'pruner.set: match: name a queue, a worker or a state (or several): a rule for every job is prune.maxAge',
    );
    await expect(koban.pruner.set({ state: 'executing' as never }, 60)).rejects.toThrow(
      'pruner.set: state: expected one of completed, cancelled, discarded, got "executing"',
    );
    await expect(koban.pruner.set({ queue: 'alpha' }, 0)).rejects.toThrow(KobanValidationError);
    await expect(koban.pruner.set({ queue: 'alpha' }, 1.5)).rejects.toThrow(/whole number of seconds/);
    await expect(koban.pruner.set({ queue: 'no spaces' }, 60)).rejects.toThrow(/queue must be a name/);
    await expect(koban.pruner.delete({ worker: '' })).rejects.toThrow(/empty string/);
    expect(await koban.pruner.list()).toEqual([]);
  });
});
