import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  defineWorker,
  type Job,
  type JobState,
  Koban,
  KobanConfigError,
  KobanTimeoutError,
  newJob,
  Worker,
  workerFunction,
} from '../../index.js';
import { freshDatabase } from '../support/databases.js';
import { quietLogger, waitFor } from '../support/wait.js';

// A worker's onTimeout(job, error) runs when an attempt passes its timeout: after job.signal
// aborts, before the attempt is written as failed. Its own failures are reported, never charged.

interface Seen {
  readonly id: string;
  readonly aborted: boolean;
  readonly error: unknown;
  /** The job's state in the database while the hook runs. */
  readonly state: JobState | undefined;
}

const seen: Seen[] = [];
let koban: Koban;

@Worker({ queue: 'timeouts', timeout: 200, maxAttempts: 2 })
class Stuck {
  async process(job: Job<{ mode: 'hang' | 'quick' | 'throwing' | 'slow-hook' }>) {
    if (job.args.mode === 'quick') return;
    await new Promise((resolve) => setTimeout(resolve, 10_000));
  }

  async onTimeout(job: Job<{ mode: string }>, error: KobanTimeoutError) {
    // Long enough for an ack that did not wait for the hook to be written first.
    if (job.args.mode === 'hang') await new Promise((resolve) => setTimeout(resolve, 150));
    seen.push({ id: job.id, aborted: job.signal.aborted, error, state: (await koban.getJob(job.id))?.state });
    if (job.args.mode === 'throwing') throw new Error('cleanup failed');
    if (job.args.mode === 'slow-hook') await new Promise((resolve) => setTimeout(resolve, 10_000));
  }

  backoff() {
    return 3600;
  }
}

const fromFunction: string[] = [];
const stuckFunction = workerFunction(
  'StuckFunction',
  async (_job: Job<{ n: number }>) => {
    await new Promise((resolve) => setTimeout(resolve, 10_000));
  },
  { queue: 'timeouts', timeout: 200, maxAttempts: 1, onTimeout: (job) => void fromFunction.push(job.id) },
);

async function ended(id: string) {
  return waitFor('the attempt to be written', async () => {
    const job = await koban.getJob(id);
    return job && job.state !== 'executing' && job.state !== 'available' ? job : undefined;
  });
}

describe('onTimeout', () => {
  beforeAll(async () => {
    koban = await Koban.start({
      database: await freshDatabase(),
      logger: quietLogger,
      pollInterval: 200,
      queues: { timeouts: 5 },
      workers: [Stuck, stuckFunction],
    });
  });
  afterAll(async () => {
    await koban?.stop();
  });

  it('runs after the signal aborts and before the attempt is written as failed', async () => {
    const errors: string[] = [];
    koban.on('error', ({ source }) => errors.push(source));
    const job = await koban.insert(newJob(Stuck, { mode: 'hang' }));
    const done = await ended(job.id);
    expect(done.state).toBe('retryable');
    expect(done.errors.map((entry) => entry.error)).toEqual([
      'KobanTimeoutError: Stuck timed out after 200 ms',
    ]);
    const hook = seen.find((entry) => entry.id === job.id)!;
    expect(hook.aborted).toBe(true);
    expect(hook.error).toBeInstanceOf(KobanTimeoutError);
    expect(hook.state).toBe('executing');
    expect(errors).toEqual([]);

    const quick = await koban.insert(newJob(Stuck, { mode: 'quick' }));
    expect((await ended(quick.id)).state).toBe('completed');
    expect(seen.some((entry) => entry.id === quick.id)).toBe(false);
  }, 30_000);

  it('reports a hook that throws or outlasts the timeout, and fails the attempt all the same', async () => {
    const errors: string[] = [];
    koban.on('error', ({ source }) => errors.push(source));
    const throwing = await koban.insert(newJob(Stuck, { mode: 'throwing' }));
    const slow = await koban.insert(newJob(Stuck, { mode: 'slow-hook' }));
    for (const job of [throwing, slow]) {
      const done = await ended(job.id);
      expect(done.state).toBe('retryable');
      expect(done.errors.at(-1)!.error).toBe('KobanTimeoutError: Stuck timed out after 200 ms');
    }
    expect(errors).toEqual(['Stuck.onTimeout', 'Stuck.onTimeout']);
  }, 30_000);

  it('is an option of workerFunction', async () => {
    const job = await koban.insert(newJob(stuckFunction, { n: 1 }));
    expect((await ended(job.id)).state).toBe('discarded');
    expect(fromFunction).toEqual([job.id]);
    expect(() => workerFunction('BadHook', async () => {}, { onTimeout: 'later' as never })).toThrow(
      KobanConfigError,
    );
    expect(() => defineWorker(class NotAWorker {} as never)).toThrow(/process\(job\) method/);
  }, 30_000);
});
