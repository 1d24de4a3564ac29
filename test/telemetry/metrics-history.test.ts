import { describe, expect, it } from 'vitest';
import {
  cancel,
  defineWorker,
  histogramBoundsMs,
  type Job,
  Koban,
  KobanValidationError,
  type MetricsPoint,
  newJob,
} from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';

class CountedWorker {
  async process(job: Job<{ ms: number }>) {
    await new Promise((resolve) => setTimeout(resolve, job.args.ms));
  }
}
defineWorker(CountedWorker, { queue: 'metered' });

class FailingTwiceWorker {
  async process(_job: Job<{ n: number }>) {
    throw new Error('always');
  }
  backoff() {
    return 0;
  }
}
defineWorker(FailingTwiceWorker, { queue: 'metered', maxAttempts: 2 });

class RefusedWorker {
  async process(_job: Job<{ n: number }>) {
    return cancel('not today');
  }
}
defineWorker(RefusedWorker, { queue: 'other' });

const workers = [CountedWorker, FailingTwiceWorker, RefusedWorker];

/** Adds up points of the same series across minutes (a run may straddle a minute's end). */
function totals(points: MetricsPoint[]) {
  const byWorker = new Map<string, Record<string, number>>();
  for (const point of points) {
    const key = `${point.queue}/${point.worker}`;
    const sum = byWorker.get(key) ?? {
      completed: 0,
      retried: 0,
      discarded: 0,
      cancelled: 0,
      snoozed: 0,
      runs: 0,
      waits: 0,
    };
    sum.completed! += point.completed;
    sum.retried! += point.retried;
    sum.discarded! += point.discarded;
    sum.cancelled! += point.cancelled;
    sum.snoozed! += point.snoozed;
    sum.runs! += point.runTime.count;
    sum.waits! += point.queueTime.count;
    byWorker.set(key, sum);
  }
  return Object.fromEntries(byWorker);
}

describe('the metrics history', () => {
  it('counts exactly what ran on two nodes, per queue and worker, once they stop', async () => {
    const database = await freshDatabase();
    const options = { database, queues: { metered: 3, other: 2 }, workers, pollInterval: 100 };
    const first = await startKoban({ ...options, node: 'metrics-a' });
    const second = await startKoban({ ...options, node: 'metrics-b' });
    await first.insertAll([
      ...Array.from({ length: 30 }, (_, n) => newJob(CountedWorker, { ms: n % 3 === 0 ? 30 : 0 })),
      ...Array.from({ length: 5 }, (_, n) => newJob(FailingTwiceWorker, { n })),
      ...Array.from({ length: 4 }, (_, n) => newJob(RefusedWorker, { n })),
    ]);
    await waitFor('every job to finish', async () => {
      const jobs = await first.listJobs({ limit: 100 });
      return (
        jobs.length === 39 && jobs.every((job) => ['completed', 'discarded', 'cancelled'].includes(job.state))
      );
    });
    await Promise.all([first.stop(), second.stop()]);

    const reader = await startKoban({ database, queues: {} });
    const since = { from: new Date(Date.now() - 10 * 60_000), to: new Date(Date.now() + 60_000) };
    const points = await reader.metricsHistory(since);
    // The operator's connection (the dashboard's, the CLI's) reads the same history.
    const ops = await Koban.connect({ database });
    expect(await ops.metricsHistory(since)).toEqual(points);
    await ops.close();
    expect(totals(points)).toEqual({
      'metered/CountedWorker': {
        completed: 30,
        retried: 0,
        discarded: 0,
        cancelled: 0,
        snoozed: 0,
        runs: 30,
        waits: 30,
      },
      'metered/FailingTwiceWorker': {
        completed: 0,
        retried: 5,
        discarded: 5,
        cancelled: 0,
        snoozed: 0,
        runs: 10,
        waits: 10,
      },
      'other/RefusedWorker': {
        completed: 0,
        retried: 0,
        discarded: 0,
        cancelled: 4,
        snoozed: 0,
        runs: 4,
        waits: 4,
      },
    });
    const counted = points.filter((point) => point.worker === 'CountedWorker');
    // Ten of the thirty slept 30 ms: at least that many runs are past the 20 ms bucket.
    const slow = counted.reduce(
      (sum, point) =>
        sum + point.runTime.histogram.slice(histogramBoundsMs.indexOf(20) + 1).reduce((a, b) => a + b, 0),
      0,
    );
    expect(slow).toBeGreaterThanOrEqual(10);
    expect(counted.every((point) => point.runTime.histogram.length === histogramBoundsMs.length + 1)).toBe(
      true,
    );

    const byQueue = totals(await reader.metricsHistory({ groupBy: 'queue', step: 60 }));
    expect(byQueue).toEqual({
      'metered/null': {
        completed: 30,
        retried: 5,
        discarded: 5,
        cancelled: 0,
        snoozed: 0,
        runs: 40,
        waits: 40,
      },
      'other/null': { completed: 0, retried: 0, discarded: 0, cancelled: 4, snoozed: 0, runs: 4, waits: 4 },
    });
    const onlyOther = totals(await reader.metricsHistory({ groupBy: 'none', queue: 'other' }));
    expect(onlyOther).toEqual({
      'null/null': { completed: 0, retried: 0, discarded: 0, cancelled: 4, snoozed: 0, runs: 4, waits: 4 },
    });
    // One row per minute, queue, worker and node: the nodes' rows add up to the same counts.
    const perNode = await withSql(
      database,
      (sql) => sql<{ node: string; attempts: number }[]>`
        SELECT node, sum(completed + retried + discarded + cancelled + snoozed)::int AS attempts
        FROM koban.job_metrics GROUP BY node ORDER BY node`,
    );
    expect(perNode.reduce((sum, row) => sum + row.attempts, 0)).toBe(44);
    expect(perNode.every((row) => ['metrics-a', 'metrics-b'].includes(row.node))).toBe(true);
  });

  it('is pruned by the leader after metrics.maxAge, and keeps nothing with metrics: false', async () => {
    const database = await freshDatabase();
    await withSql(
      database,
      (sql) => sql`
        INSERT INTO koban.job_metrics (minute, queue, worker, node, completed, run_histogram, queue_histogram)
        VALUES (date_trunc('minute', now() - interval '2 hours'), 'q', 'Old', 'n', 1, '{}', '{}'),
               (date_trunc('minute', now() - interval '10 minutes'), 'q', 'Recent', 'n', 1, '{}', '{}')`,
    );
    const koban = await startKoban({ database, queues: {}, metrics: { maxAge: 3600 } });
    await waitFor('the prune', async () => {
      const rows = await withSql(
        database,
        (sql) => sql<{ worker: string }[]>`SELECT worker FROM koban.job_metrics`,
      );
      return rows.length === 1 ? rows : undefined;
    });
    const points = await koban.metricsHistory({ from: new Date(Date.now() - 3 * 3600_000) });
    expect(points.map((point) => [point.worker, point.completed])).toEqual([['Recent', 1]]);

    const quiet = await freshDatabase();
    const off = await startKoban({ database: quiet, queues: { metered: 1 }, workers, metrics: false });
    const job = await off.insert(newJob(CountedWorker, { ms: 0 }));
    await waitFor('the job', async () => (await off.getJob(job.id))?.state === 'completed');
    await off.stop();
    expect(await withSql(quiet, (sql) => sql`SELECT * FROM koban.job_metrics`)).toHaveLength(0);
  });

  it('says what is wrong with a bad query', async () => {
    const koban = await startKoban({ database: await freshDatabase(), queues: {} });
    await expect(koban.metricsHistory({ step: 0 })).rejects.toThrow(
      new KobanValidationError([
        { path: 'metricsHistory.step', message: 'expected whole minutes from 1 to 1440, got 0' },
      ]),
    );
    await expect(koban.metricsHistory({ from: new Date('nope') })).rejects.toThrow(KobanValidationError);
    await expect(
      koban.metricsHistory({ from: new Date(Date.now() + 60_000), to: new Date() }),
    ).rejects.toThrow(/metricsHistory\.from: must be before to/);
    await expect(koban.metricsHistory({ groupBy: 'node' as never })).rejects.toThrow(
      /metricsHistory\.groupBy: expected 'worker', 'queue' or 'none', got "node"/,
    );
  });
});
