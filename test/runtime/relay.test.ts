import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import {
  discard,
  type Job,
  Koban,
  KobanAwaitTimeoutError,
  KobanJobFailedError,
  KobanValidationError,
  newJob,
  Recorded,
  Worker,
} from '../../index.js';
import { freshDatabase } from '../support/databases.js';
import { quietLogger } from '../support/wait.js';
import { backends } from '../workflows/support.js';

// Awaiting a job's outcome and value (Oban Pro's Relay): typed by the worker's result, settled
// once the job has finished, on whichever node ran it.

@Worker({ queue: 'relay', maxAttempts: 3 })
@Recorded()
class Square {
  async process(
    job: Job<{ n: number; failFirst?: boolean; discard?: boolean }>,
  ): Promise<{ square: number }> {
    if (job.args.discard) return discard('not today') as never;
    if (job.args.failFirst && job.attempt === 1) throw new Error('first attempt fails');
    return { square: job.args.n * job.args.n };
  }
  backoff() {
    return 0;
  }
}

@Worker({ queue: 'relay' })
class Plain {
  async process(_job: Job<{ n: number }>): Promise<number> {
    return 1;
  }
}

@Worker({ queue: 'relay_idle' })
class Idle {
  async process(_job: Job<Record<string, never>>) {}
}

const workers = [Square, Plain, Idle];

describe.each(backends)('awaiting jobs on %s', (backend) => {
  let koban: Koban;

  beforeAll(async () => {
    koban = await Koban.start({
      database: backend === 'postgres' ? await freshDatabase() : undefined,
      logger: quietLogger,
      queues: { relay: 5 },
      workers,
      pollInterval: 100,
      stageInterval: 100,
    });
  });
  afterAll(() => koban.stop());

  it("awaitResult gives the recorded value, typed by the worker's result", async () => {
    const value = await koban.awaitResult(await koban.insert(newJob(Square, { n: 7 })));
    expectTypeOf(value).toEqualTypeOf<{ square: number }>();
    expect(value).toEqual({ square: 49 });
  });

  it('waits through a retry for the attempt that completes', async () => {
    const job = await koban.insert(newJob(Square, { n: 3, failFirst: true }));
    expect(await koban.awaitResult(job)).toEqual({ square: 9 });
    expect((await koban.getJob(job.id))!.attempt).toBe(2);
  });

  it('settles every concurrent wait of a job with the same outcome', async () => {
    const job = await koban.insert(newJob(Square, { n: 5 }));
    const waits = await Promise.all(Array.from({ length: 10 }, () => koban.awaitJob(job)));
    expect(new Set(waits.map((finished) => finished.state))).toEqual(new Set(['completed']));
    expect(new Set(waits.map((finished) => finished.completedAt!.getTime())).size).toBe(1);
  });

  it('rejects with the reason when the job was discarded; awaitJob returns it as it ended', async () => {
    const job = await koban.insert(newJob(Square, { n: 1, discard: true }));
    const failure = await koban.awaitResult(job).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(KobanJobFailedError);
    expect((failure as Error).message).toBe(`job ${job.id} (Square) was discarded (discarded: not today)`);
    expect(await koban.awaitJob(job)).toMatchObject({ id: job.id, state: 'discarded' });
  });

  it('awaitJob works for any worker; awaitResult says when nothing was recorded', async () => {
    const job = await koban.insert(newJob(Plain, { n: 1 }));
    expect(await koban.awaitJob(job)).toMatchObject({ state: 'completed', worker: 'Plain' });
    await expect(koban.awaitResult(job)).rejects.toThrow(
      /Plain is not @Recorded, so its value was not stored/,
    );
  });

  it('gives up after the timeout, saying the state; the job goes on', async () => {
    const job = await koban.insert(newJob(Idle, {}));
    const failure = await koban.awaitJob(job, { timeout: 300 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(KobanAwaitTimeoutError);
    expect((failure as Error).message).toBe(
      `job ${job.id} had not finished after 300 ms (it is available); the job goes on: wait again, or raise the timeout`,
    );
    expect((await koban.getJob(job.id))!.state).toBe('available');
  });

  it('rejects when the job is deleted while awaited, and refuses a bad timeout', async () => {
    const job = await koban.insert(newJob(Idle, {}));
    const waiting = koban.awaitJob(job).catch((error: unknown) => error);
    await koban.deleteJob(job.id);
    const failure = await waiting;
    expect(failure).toBeInstanceOf(KobanJobFailedError);
    expect((failure as Error).message).toBe(`job ${job.id} no longer exists: it was deleted or pruned`);
    await expect(koban.awaitJob(job, { timeout: -1 })).rejects.toThrow(KobanValidationError);
    await expect(koban.awaitJob(job, { timeout: -1 })).rejects.toThrow(
      'awaitJob: timeout: expected milliseconds above 0, got -1',
    );
  });
});

describe('awaiting jobs that run on another node', () => {
  const started: Koban[] = [];
  afterAll(async () => {
    await Promise.allSettled(started.map((node) => node.stop()));
  });

  it('resolves each wait on the inserting node once the other node has run the job', async () => {
    const database = await freshDatabase();
    const common = { database, logger: quietLogger, workers, pollInterval: 100, stageInterval: 100 };
    const inserter = await Koban.start({ ...common, node: 'relay-inserter', queues: {} });
    const runner = await Koban.start({ ...common, node: 'relay-runner', queues: { relay: 4 } });
    started.push(inserter, runner);
    const jobs = await Promise.all(
      Array.from({ length: 20 }, (_, n) => inserter.insert(newJob(Square, { n, failFirst: n % 4 === 0 }))),
    );
    const values = await Promise.all(jobs.map((job) => inserter.awaitResult(job)));
    expect(values).toEqual(jobs.map((_, n) => ({ square: n * n })));
    const finished = await Promise.all(jobs.map((job) => inserter.awaitJob(job)));
    expect(new Set(finished.map((job) => job.attemptedBy.at(-1)))).toEqual(new Set(['relay-runner']));
  });
});
