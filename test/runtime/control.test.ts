import { beforeAll, describe, expect, it } from 'vitest';
import { defineWorker, type Job, type Koban, KobanValidationError, newJob } from '../../index.js';
import { freshDatabase } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';

interface Blocked {
  readonly job: Job<{ label: string; honour: boolean }>;
  release(): void;
}
const blocked = new Map<string, Blocked>();
const finished = new Map<string, { aborted: boolean; reason: unknown }>();

/** Runs until released; with `honour`, gives up (throws) as soon as its signal aborts. */
class BlockingWorker {
  async process(job: Job<{ label: string; honour: boolean }>) {
    await new Promise<void>((resolve, reject) => {
      blocked.set(job.args.label, { job, release: resolve });
      if (job.args.honour) job.signal.addEventListener('abort', () => reject(job.signal.reason));
    });
    finished.set(job.args.label, { aborted: job.signal.aborted, reason: job.signal.reason });
    return 'done late';
  }
}
defineWorker(BlockingWorker, { queue: 'control' });

const runs = new Map<string, number>();
class FlakyWorker {
  async process(job: Job<{ label: string; fail: boolean }>) {
    runs.set(job.args.label, (runs.get(job.args.label) ?? 0) + 1);
    if (job.args.fail && job.attempt === 1) throw new Error('first attempt fails');
  }
}
defineWorker(FlakyWorker, { queue: 'control', maxAttempts: 1 });

let url: string;
beforeAll(async () => {
  url = await freshDatabase();
});

async function untilState(koban: Koban, id: string, state: string) {
  return waitFor(`job ${id} to be ${state}`, async () => {
    const job = await koban.getJob(id);
    return job?.state === state ? job : null;
  });
}

describe('cancelJob', () => {
  it('cancels available and scheduled jobs, but not finished ones', async () => {
    const koban = await startKoban({ database: url, queues: {} });
    const available = await koban.insert(newJob(FlakyWorker, { label: 'c1', fail: false }), {
      queue: 'idle',
    });
    const scheduled = await koban.insert(newJob(FlakyWorker, { label: 'c2', fail: false }), {
      scheduleIn: 600,
    });
    expect(await koban.cancelJob(available.id)).toBe(true);
    expect(await koban.cancelJob(scheduled.id)).toBe(true);
    for (const id of [available.id, scheduled.id]) {
      const job = await koban.getJob(id);
      expect(job?.state).toBe('cancelled');
      expect(job?.cancelledAt).toBeInstanceOf(Date);
    }
    expect(await koban.cancelJob(available.id)).toBe(false);
    expect(await koban.cancelJob('999999999')).toBe(false);
  });

  it('returns false for a completed job and leaves it completed', async () => {
    const koban = await startKoban({ database: url, queues: { control: 2 } });
    const job = await koban.insert(newJob(FlakyWorker, { label: 'c3', fail: false }));
    await untilState(koban, job.id, 'completed');
    expect(await koban.cancelJob(job.id)).toBe(false);
    expect((await koban.getJob(job.id))?.state).toBe('completed');
  });

  it('aborts an executing job through its signal; it ends cancelled', async () => {
    const koban = await startKoban({ database: url, queues: { control: 2 } });
    const job = await koban.insert(newJob(BlockingWorker, { label: 'x1', honour: true }));
    const running = await waitFor('x1 to start', () => blocked.get('x1'));
    expect(await koban.cancelJob(job.id)).toBe(true);
    await waitFor('x1 signal to abort', () => running.job.signal.aborted);
    expect(String(running.job.signal.reason)).toContain(job.id);
    await koban.stop(); // flushes the outcome of the aborted attempt
    const stored = await (await startKoban({ database: url, queues: {} })).getJob(job.id);
    expect(stored?.state).toBe('cancelled');
    expect(stored?.cancelledAt).toBeInstanceOf(Date);
  });

  it("does not let a late completion overwrite 'cancelled'", async () => {
    const koban = await startKoban({ database: url, queues: { control: 2 } });
    const job = await koban.insert(newJob(BlockingWorker, { label: 'x2', honour: false }));
    const running = await waitFor('x2 to start', () => blocked.get('x2'));
    expect(await koban.cancelJob(job.id)).toBe(true);
    await waitFor('x2 signal to abort', () => running.job.signal.aborted);
    running.release();
    await waitFor('x2 to return', () => finished.get('x2'));
    expect(finished.get('x2')?.aborted).toBe(true);
    await koban.stop();
    const stored = await (await startKoban({ database: url, queues: {} })).getJob(job.id);
    expect(stored?.state).toBe('cancelled');
    expect(stored?.completedAt).toBeNull();
  });
});

describe('retryJob', () => {
  it('runs a discarded job again, granting an attempt when none is left', async () => {
    const koban = await startKoban({ database: url, queues: { control: 2 } });
    const job = await koban.insert(newJob(FlakyWorker, { label: 'r1', fail: true }));
    const discarded = await untilState(koban, job.id, 'discarded');
    expect(discarded).toMatchObject({ attempt: 1, maxAttempts: 1 });
    expect(await koban.retryJob(job.id)).toBe(true);
    const completed = await untilState(koban, job.id, 'completed');
    expect(completed).toMatchObject({ attempt: 2, maxAttempts: 2, discardedAt: null });
    expect(completed.errors).toHaveLength(1);
    expect(runs.get('r1')).toBe(2);
  });

  it('runs cancelled and completed jobs again', async () => {
    const koban = await startKoban({ database: url, queues: { control: 2 } });
    const done = await koban.insert(newJob(FlakyWorker, { label: 'r2', fail: false }), { maxAttempts: 5 });
    await untilState(koban, done.id, 'completed');
    const cancelled = await koban.insert(newJob(FlakyWorker, { label: 'r3', fail: false }), {
      scheduleIn: 600,
    });
    await koban.cancelJob(cancelled.id);

    expect(await koban.retryJobs([done.id, cancelled.id])).toBe(2);
    const again = await untilState(koban, done.id, 'completed');
    expect(again).toMatchObject({ attempt: 2, maxAttempts: 5 });
    expect(await untilState(koban, cancelled.id, 'completed')).toMatchObject({
      attempt: 1,
      cancelledAt: null,
    });
    expect(runs.get('r2')).toBe(2);
    expect(runs.get('r3')).toBe(1);
  });

  it('leaves available jobs alone', async () => {
    const koban = await startKoban({ database: url, queues: {} });
    const job = await koban.insert(newJob(FlakyWorker, { label: 'r4', fail: false }), { queue: 'idle' });
    expect(await koban.retryJob(job.id)).toBe(false);
  });
});

describe('delete, list, get and bulk commands', () => {
  it('deletes one job or a filtered set', async () => {
    const koban = await startKoban({ database: url, queues: {} });
    const one = await koban.insert(newJob(FlakyWorker, { label: 'd1', fail: false }), { queue: 'del' });
    expect(await koban.deleteJob(one.id)).toBe(true);
    expect(await koban.getJob(one.id)).toBeNull();
    expect(await koban.deleteJob(one.id)).toBe(false);

    const specs = [1, 2, 3, 4].map((n) =>
      newJob(FlakyWorker, { label: `d${n}`, fail: false }, { queue: 'del' }),
    );
    const inserted = await koban.insertAll(specs);
    await koban.cancelJob(inserted[0]!.id);
    await koban.insert(newJob(BlockingWorker, { label: 'keep', honour: true }), { queue: 'del' });
    expect(await koban.deleteJobs({ queue: 'del', state: 'available', worker: 'FlakyWorker' })).toBe(3);
    const left = await koban.listJobs({ queue: 'del' });
    expect(left.map((job) => [job.worker, job.state]).sort()).toEqual([
      ['BlockingWorker', 'available'],
      ['FlakyWorker', 'cancelled'],
    ]);
  });

  it('cancels and retries by filter', async () => {
    const koban = await startKoban({ database: url, queues: {} });
    await koban.insertAll(
      [1, 2, 3].map((n) => newJob(FlakyWorker, { label: `b${n}`, fail: false }, { queue: 'bulk' })),
    );
    await koban.insert(newJob(BlockingWorker, { label: 'bx', honour: true }), { queue: 'bulk' });
    expect(await koban.cancelJobs({ queue: 'bulk', worker: 'FlakyWorker' })).toBe(3);
    expect(await koban.cancelJobs({ queue: 'bulk', worker: 'FlakyWorker' })).toBe(0);
    expect((await koban.listJobs({ queue: 'bulk', state: 'available' })).map((job) => job.worker)).toEqual([
      'BlockingWorker',
    ]);
    expect(await koban.retryJobs({ queue: 'bulk', state: 'cancelled' })).toBe(3);
    expect(await koban.listJobs({ queue: 'bulk', state: 'cancelled' })).toEqual([]);
  });

  it('lists by queue, state, worker, newest first, up to a limit', async () => {
    const koban = await startKoban({ database: url, queues: {} });
    const ids: string[] = [];
    for (let n = 0; n < 5; n++) {
      ids.push(
        (await koban.insert(newJob(FlakyWorker, { label: `l${n}`, fail: false }), { queue: 'list' })).id,
      );
    }
    await koban.insert(newJob(FlakyWorker, { label: 'l-late', fail: false }), {
      queue: 'list',
      scheduleIn: 60,
    });
    const available = await koban.listJobs({ queue: 'list', state: 'available', worker: 'FlakyWorker' });
    expect(available.map((job) => job.id)).toEqual([...ids].reverse());
    expect((await koban.listJobs({ queue: 'list', limit: 2 })).length).toBe(2);
    expect(await koban.listJobs({ queue: 'list', state: ['scheduled', 'cancelled'] })).toHaveLength(1);
    expect(await koban.listJobs({ queue: 'list', worker: 'BlockingWorker' })).toEqual([]);
    await expect(koban.listJobs({ limit: 0 })).rejects.toThrow(/limit/);
    await expect(koban.listJobs({ state: 'finished' as never })).rejects.toThrow(/unknown state finished/);
  });

  it('returns null for a missing id and refuses ids that are not ids', async () => {
    const koban = await startKoban({ database: url, queues: {} });
    expect(await koban.getJob('987654321')).toBeNull();
    expect(await koban.getJob(987654321n)).toBeNull();
    for (const bad of ['abc', '', '-1', 0, 1.5, '1; DROP TABLE koban.jobs', '99999999999999999999']) {
      const error = await koban.getJob(bad).catch((caught: unknown) => caught);
      expect(error, `getJob(${JSON.stringify(bad)})`).toBeInstanceOf(KobanValidationError);
      expect((error as Error).message).toMatch(/^id: expected a job id/);
    }
    await expect(koban.cancelJob('abc')).rejects.toThrow(KobanValidationError);
    await expect(koban.retryJobs(['1', 'x'])).rejects.toThrow(KobanValidationError);
    await expect(koban.deleteJob(-5)).rejects.toThrow(KobanValidationError);
  });
});

// An id above bigint's maximum is a bad id like any other: it must not reach PostgreSQL's ::bigint cast.
it('refuses an id beyond the bigint range as a bad id, not a database error', async () => {
  const koban = await startKoban({ database: url, queues: {} });
  await expect(koban.getJob('9999999999999999999')).rejects.toThrow(KobanValidationError);
  await expect(koban.cancelJob('9223372036854775808')).rejects.toThrow(KobanValidationError);
  expect(await koban.getJob('9223372036854775807')).toBeNull();
});

describe('queue control on one node', () => {
  it('pauses (jobs stay available), resumes, and a node started later starts paused', async () => {
    const koban = await startKoban({ database: url, queues: { paused: 2 } });
    await koban.pauseQueue('paused');
    await waitFor('the producer to pause', () => koban.queues().find((q) => q.queue === 'paused')?.paused);
    const job = await koban.insert(newJob(FlakyWorker, { label: 'p1', fail: false }), { queue: 'paused' });
    await new Promise((resolve) => setTimeout(resolve, 1000)); // five poll intervals
    expect((await koban.getJob(job.id))?.state).toBe('available');

    const later = await startKoban({ database: url, queues: { paused: 1 }, node: 'later' });
    expect(later.queues()).toEqual([{ queue: 'paused', limit: 1, running: 0, paused: true, flow: {} }]);
    await later.stop();

    await koban.resumeQueue('paused');
    await untilState(koban, job.id, 'completed');
    expect(koban.queues().find((q) => q.queue === 'paused')?.paused).toBe(false);
  });

  it('scales a queue up while it runs', async () => {
    const koban = await startKoban({ database: url, queues: { control: 1 } });
    const labels = ['s1', 's2', 's3'];
    for (const label of labels) await koban.insert(newJob(BlockingWorker, { label, honour: true }));
    await waitFor('one job to run', () => koban.queues()[0]?.running === 1);
    await koban.scaleQueue('control', 3);
    await waitFor('three jobs to run', () => koban.queues()[0]?.running === 3);
    expect(koban.queues()[0]?.limit).toBe(3);
    for (const label of labels) (await waitFor(`${label} to start`, () => blocked.get(label))).release();
    await expect(koban.scaleQueue('control', 0)).rejects.toThrow(/limit must be a positive integer/);
  });
});
