import { beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import {
  cancel,
  defineWorker,
  discard,
  type Job,
  type Koban,
  KobanConfigError,
  newJob,
  Recorded,
  snooze,
  Worker,
  workerFunction,
} from '../../index.js';
import { drainJobs, performJob } from '../../runtime/testing.js';
import { freshDatabase } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';
import { rawJobs } from './support.js';

// Chunk workers: `process` gets up to `size` jobs of one group at once, waiting at most `timeout`
// ms for them, and each job's outcome is still its own.

interface Chunk {
  readonly worker: string;
  readonly ids: readonly string[];
  readonly groups: readonly string[];
  readonly attempts: readonly number[];
}

const chunks: Chunk[] = [];
const seen = (worker: string) => chunks.filter((chunk) => chunk.worker === worker);
const note = (worker: string, jobs: readonly Job<{ account?: string; n: number }>[]) =>
  chunks.push({
    worker,
    ids: jobs.map((job) => job.id),
    groups: jobs.map((job) => `${job.args.account ?? ''}/${String(job.meta.source ?? '')}`),
    attempts: jobs.map((job) => job.attempt),
  });

@Worker({ queue: 'sized', chunk: { size: 10, timeout: 300 } })
class Sized {
  async process(jobs: Job<{ n: number }>[]) {
    note('Sized', jobs);
  }
}

@Worker({ queue: 'waiting', chunk: { size: 5, timeout: 60_000 } })
class Waiting {
  async process(jobs: Job<{ n: number }>[]) {
    note('Waiting', jobs);
  }
}

@Worker({ queue: 'grouped', chunk: { size: 10, timeout: 300, by: { args: ['account'] } } })
class ByAccount {
  async process(jobs: Job<{ account: string; n: number }>[]) {
    note('ByAccount', jobs);
  }
}

@Worker({ queue: 'grouped', chunk: { size: 10, timeout: 300, by: { meta: ['source'] } } })
class BySource {
  async process(jobs: Job<{ n: number }>[]) {
    note('BySource', jobs);
  }
}

@Worker({ queue: 'outcomes', maxAttempts: 3, chunk: { size: 5, timeout: 300 } })
class Mixed {
  async process(jobs: Job<{ n: number; fail?: 'once' | 'always' }>[]) {
    note('Mixed', jobs);
    const outcomes = new Map<Job | string, Error | ReturnType<typeof cancel>>();
    for (const job of jobs) {
      if (job.args.fail === 'always' || (job.args.fail === 'once' && job.attempt === 1))
        outcomes.set(job, new Error(`row ${job.args.n} failed`));
      if (job.args.n === 2) outcomes.set(job.id, cancel('not wanted'));
      if (job.args.n === 3) outcomes.set(job, snooze(3600));
      if (job.args.n === 4) outcomes.set(job, discard('bad row'));
    }
    return outcomes;
  }

  backoff() {
    return 0;
  }
}

@Worker({ queue: 'outcomes', maxAttempts: 5, chunk: { size: 5, timeout: 300 } })
class Throwing {
  async process(jobs: Job<{ n: number }>[]) {
    note('Throwing', jobs);
    throw new Error('the whole chunk failed');
  }

  backoff() {
    return 3600;
  }
}

@Worker({ queue: 'recorded', chunk: { size: 3, timeout: 300 } })
@Recorded()
class Doubling {
  async process(jobs: Job<{ n: number }>[]) {
    return new Map(
      jobs.map((job) => [job, job.args.n === 3 ? new Error('three is odd') : { doubled: job.args.n * 2 }]),
    );
  }

  backoff() {
    return 3600;
  }
}

/** A node that only inserts: jobs wait for the node that runs them, so backlogs are known. */
async function inserter(url: string): Promise<Koban> {
  return startKoban({ database: url, testing: 'manual' });
}

describe('chunk workers', () => {
  // Each test runs on a database of its own, whose ids start at 1 again.
  beforeEach(() => {
    chunks.length = 0;
  });

  it('hand process at most size jobs, full chunks while a backlog lasts', async () => {
    const url = await freshDatabase();
    await (await inserter(url)).insertAll(Array.from({ length: 25 }, (_, n) => newJob(Sized, { n })));
    await startKoban({ database: url, queues: { sized: 1 }, workers: [Sized] });
    await waitFor('25 jobs to run', () => seen('Sized').flatMap((chunk) => chunk.ids).length === 25);
    expect(seen('Sized').map((chunk) => chunk.ids.length)).toEqual([10, 10, 5]);
    const stored = await rawJobs(url, 'Sized');
    expect(stored.every((job) => job.state === 'completed' && job.attempt === 1)).toBe(true);
  });

  it('wait up to timeout for jobs inserted after the chunk opened', async () => {
    const url = await freshDatabase();
    const koban = await startKoban({ database: url, queues: { waiting: 1 }, workers: [Waiting] });
    const first = await koban.insert(newJob(Waiting, { n: 0 }));
    await waitFor(
      'the first job to be claimed',
      async () => (await koban.getJob(first.id))?.state === 'executing',
    );
    // The chunk is open, holding the queue's one slot: it gathers these itself.
    await koban.insertAll([1, 2, 3, 4].map((n) => newJob(Waiting, { n })));
    await waitFor('the chunk to run', () => seen('Waiting').length === 1);
    expect(seen('Waiting')[0]!.ids.length).toBe(5);
  });

  it('leave out of the call a job cancelled while it waited in an open chunk', async () => {
    const url = await freshDatabase();
    const koban = await startKoban({ database: url, queues: { waiting: 1 }, workers: [Waiting] });
    const first = await koban.insert(newJob(Waiting, { n: 0 }));
    await waitFor(
      'the first job to be claimed',
      async () => (await koban.getJob(first.id))?.state === 'executing',
    );
    await koban.cancelJob(first.id);
    const rest = await koban.insertAll([1, 2, 3, 4].map((n) => newJob(Waiting, { n })));
    await waitFor('the chunk to run', () => seen('Waiting').length === 1);
    expect(seen('Waiting')[0]!.ids).toEqual(rest.map((job) => job.id));
    expect((await koban.getJob(first.id))?.state).toBe('cancelled');
  });

  it('run a chunk with fewer jobs once its timeout passes', async () => {
    const url = await freshDatabase();
    const koban = await startKoban({ database: url, queues: { sized: 3 }, workers: [Sized] });
    const inserted = await koban.insertAll([1, 2, 3].map((n) => newJob(Sized, { n })));
    await waitFor('the three jobs to run', () => seen('Sized').flatMap((chunk) => chunk.ids).length === 3);
    // A single open chunk took them: the queue claimed them together, nothing more came.
    expect(seen('Sized').map((chunk) => chunk.ids)).toEqual([inserted.map((job) => job.id)]);
  });

  it('group jobs by args or meta keys: a chunk holds one group', async () => {
    const url = await freshDatabase();
    const inserting = await inserter(url);
    const accounts = ['a', 'b', 'a', 'c', 'b', 'a', 'c', 'a', 'b'];
    await inserting.insertAll(accounts.map((account, n) => newJob(ByAccount, { account, n })));
    const sources = ['x', 'y', 'x', undefined, 'y', 'x'];
    await inserting.insertAll(
      sources.map((source, n) => newJob(BySource, { n }, source ? { meta: { source } } : {})),
    );
    await startKoban({ database: url, queues: { grouped: 1 }, workers: [ByAccount, BySource] });
    await waitFor('every grouped job to run', () => {
      const ran = [...seen('ByAccount'), ...seen('BySource')].flatMap((chunk) => chunk.ids);
      return ran.length === accounts.length + sources.length;
    });
    for (const chunk of [...seen('ByAccount'), ...seen('BySource')])
      expect(new Set(chunk.groups).size, JSON.stringify(chunk)).toBe(1);
    // One slot, a backlog known in advance: each group is one chunk.
    expect(
      seen('ByAccount')
        .map((chunk) => chunk.groups[0])
        .sort(),
    ).toEqual(['a/', 'b/', 'c/']);
    expect(
      seen('ByAccount')
        .map((chunk) => chunk.ids.length)
        .sort(),
    ).toEqual([2, 3, 4]);
    expect(
      seen('BySource')
        .map((chunk) => chunk.groups[0])
        .sort(),
    ).toEqual(['/', '/x', '/y']);
  });

  it('gather in a queue with cluster-wide limits only what its limited claims hand over', async () => {
    const url = await freshDatabase();
    await (await inserter(url)).insertAll(Array.from({ length: 25 }, (_, n) => newJob(Sized, { n })));
    await startKoban({
      database: url,
      queues: { sized: { limit: 4, global: { limit: 12 } } },
      workers: [Sized],
    });
    await waitFor('25 jobs to run', () => seen('Sized').flatMap((chunk) => chunk.ids).length === 25);
    expect(seen('Sized').every((chunk) => chunk.ids.length <= 10)).toBe(true);
    expect(new Set(seen('Sized').flatMap((chunk) => chunk.ids)).size).toBe(25);
  });

  it('give each job its own outcome: a failed job retries alone, the others complete', async () => {
    const url = await freshDatabase();
    const inserting = await inserter(url);
    const jobs = await inserting.insertAll([
      newJob(Mixed, { n: 0 }),
      newJob(Mixed, { n: 1, fail: 'once' }),
      newJob(Mixed, { n: 2 }),
      newJob(Mixed, { n: 3 }),
      newJob(Mixed, { n: 4 }),
    ]);
    await startKoban({ database: url, queues: { outcomes: 1 }, workers: [Mixed] });
    const byN = async () => {
      const stored = await rawJobs(url, 'Mixed');
      return jobs.map((job) => stored.find((row) => row.id === job.id)!);
    };
    await waitFor(
      'the failed job to complete on its retry',
      async () => (await byN())[1]?.state === 'completed',
    );
    const [ok, retried, cancelled, snoozed, discarded] = await byN();
    expect(ok).toMatchObject({ state: 'completed', attempt: 1 });
    expect(retried).toMatchObject({ state: 'completed', attempt: 2 });
    expect(retried!.errors.map((entry) => entry.error)).toEqual(['Error: row 1 failed']);
    expect(cancelled).toMatchObject({ state: 'cancelled' });
    expect(cancelled!.errors[0]!.error).toBe('cancelled: not wanted');
    expect(snoozed).toMatchObject({ state: 'scheduled', attempt: 0 });
    expect(discarded).toMatchObject({ state: 'discarded' });
    expect(discarded!.errors[0]!.error).toBe('discarded: bad row');
    // The first chunk held all five; the retry ran in a chunk of its own.
    expect(seen('Mixed').map((chunk) => chunk.ids)).toEqual([jobs.map((job) => job.id), [jobs[1]!.id]]);
    expect(seen('Mixed')[1]!.attempts).toEqual([2]);
  });

  it('fail every job of a chunk whose process throws, each with the error', async () => {
    const url = await freshDatabase();
    const koban = await startKoban({ database: url, queues: { outcomes: 1 }, workers: [Throwing] });
    await koban.insertAll([1, 2, 3].map((n) => newJob(Throwing, { n })));
    await waitFor('the jobs to be retryable', async () => {
      const stored = await rawJobs(url, 'Throwing');
      return stored.every((job) => job.state === 'retryable');
    });
    for (const job of await rawJobs(url, 'Throwing'))
      expect(job.errors.map((entry) => entry.error)).toEqual(['Error: the whole chunk failed']);
  });

  it('run as chunks of one where jobs run one by one: drainJobs and performJob', async () => {
    const url = await freshDatabase();
    const koban = await startKoban({ database: url, testing: 'manual', workers: [Sized] });
    await koban.insertAll([1, 2].map((n) => newJob(Sized, { n })));
    const drained = await drainJobs(koban, { queue: 'sized' });
    expect(drained.completed).toBe(2);
    expect(seen('Sized').map((chunk) => chunk.ids.length)).toEqual([1, 1]);
    expect(await performJob(Sized, { n: 9 })).toMatchObject({ kind: 'completed' });
  });

  it('run on embedded PGlite', async () => {
    const koban = await startKoban({ queues: { sized: 2 }, workers: [Sized] });
    await koban.insertAll(Array.from({ length: 30 }, (_, n) => newJob(Sized, { n })));
    await waitFor('30 jobs to run', () => seen('Sized').flatMap((chunk) => chunk.ids).length === 30);
    expect(seen('Sized').every((chunk) => chunk.ids.length <= 10)).toBe(true);
    expect(new Set(seen('Sized').flatMap((chunk) => chunk.ids)).size).toBe(30);
  });

  it('refuse bad chunk options, naming the worker and the option', async () => {
    class Zero {
      async process(_jobs: Job[]) {}
    }
    expect(() => defineWorker(Zero, { chunk: { size: 0 } })).toThrow(
      new KobanConfigError('worker Zero: chunk.size must be an integer from 1 to 10000, got 0'),
    );
    class Stray {
      async process(_jobs: Job[]) {}
    }
    expect(() => defineWorker(Stray, { chunk: { by: { args: [] } } as never })).toThrow(
      /worker Stray: chunk\.by\.args: expected a non-empty list of key names/,
    );
    expect(() => defineWorker(Stray, { chunk: { timout: 5 } as never })).toThrow(
      /worker Stray: chunk has unknown option timout/,
    );
    expect(() => workerFunction('ChunkFunction', async () => {}, { chunk: { size: 5 } } as never)).toThrow(
      /workerFunction\("ChunkFunction"\): a chunk worker's process takes a list of jobs/,
    );
  });

  it('record what the map gives each job when the worker is @Recorded, typed by it', async () => {
    const url = await freshDatabase();
    const inserting = await inserter(url);
    const typed = await inserting.insert(newJob(Doubling, { n: 1 }));
    const jobs = [typed, ...(await inserting.insertAll([2, 3].map((n) => newJob(Doubling, { n }))))];
    await startKoban({ database: url, queues: { recorded: 1 }, workers: [Doubling] });
    const first = await inserting.awaitResult(typed);
    expectTypeOf(first).toEqualTypeOf<{ doubled: number }>();
    expect(first).toEqual({ doubled: 2 });
    expect(await inserting.fetchRecorded(jobs[1]!)).toEqual({ status: 'ok', value: { doubled: 4 } });
    await waitFor(
      'the third job to fail',
      async () => (await inserting.getJob(jobs[2]!.id))?.state === 'retryable',
    );
    expect(await inserting.fetchRecorded(jobs[2]!)).toMatchObject({
      status: 'missing',
      reason: 'not_completed',
    });
  });
});
