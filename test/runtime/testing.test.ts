import { allEnqueued, assertEnqueued, drainJobs, performJob, refuteEnqueued } from 'koban/testing';
import { describe, expect, it } from 'vitest';
import {
  type Codec,
  cancel,
  defineWorker,
  discard,
  type Job,
  type Koban,
  KobanValidationError,
  newJob,
  snooze,
} from '../../index.js';
import { freshDatabase } from '../support/databases.js';
import { startKoban } from '../support/koban.js';

type Mode = 'ok' | 'throw' | 'cancel' | 'discard' | 'snooze';

class ModeWorker {
  async process(job: Job<{ mode: Mode; n?: number }>) {
    switch (job.args.mode) {
      case 'throw':
        throw new Error(`failed ${job.args.n ?? ''}`);
      case 'cancel':
        return cancel('not wanted');
      case 'discard':
        return discard('hopeless');
      case 'snooze':
        return snooze(30);
      default:
        return { seen: job.args, meta: job.meta, attempt: job.attempt };
    }
  }
}
defineWorker(ModeWorker, { queue: 'testing', maxAttempts: 3 });

let current: Koban;

/** Inserts a child job per level, to test recursive draining. */
class ParentWorker {
  async process(job: Job<{ depth: number }>) {
    if (job.args.depth > 0) await current.insert(newJob(ParentWorker, { depth: job.args.depth - 1 }));
  }
}
defineWorker(ParentWorker, { queue: 'tree' });

class DatedWorker {
  async process(job: Job<{ at: Date }>) {
    return job.args.at instanceof Date ? job.args.at.toISOString() : `not a date: ${typeof job.args.at}`;
  }
}
defineWorker(DatedWorker);

const datedCodec: Codec<{ at: Date }> = {
  encode: (value) => ({ at: value.at.toISOString() }),
  decode: (data) => {
    const at = (data as { at?: unknown }).at;
    if (typeof at !== 'string')
      throw new KobanValidationError([{ path: 'args.at', message: 'expected a date string' }]);
    return { at: new Date(at) };
  },
};

async function failure(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected the assertion to fail');
    },
    (error: Error) => error,
  );
}

/** A database per test: the helpers look at every job in it. */
async function start(): Promise<Koban> {
  current = await startKoban({ database: await freshDatabase(), queues: {} });
  return current;
}

describe('performJob', () => {
  it('returns each outcome kind', async () => {
    expect(await performJob(ModeWorker, { mode: 'ok' }, { meta: { by: 'test' } })).toEqual({
      kind: 'completed',
      result: { seen: { mode: 'ok' }, meta: { by: 'test' }, attempt: 1 },
    });
    const failed = await performJob(ModeWorker, { mode: 'throw', n: 1 });
    expect(failed).toMatchObject({ kind: 'error', state: 'retryable' });
    expect(((failed as { error: Error }).error as Error).message).toBe('failed 1');
    expect(await performJob(ModeWorker, { mode: 'throw' }, { attempt: 3 })).toMatchObject({
      kind: 'error',
      state: 'discarded',
    });
    expect(await performJob(ModeWorker, { mode: 'cancel' })).toEqual({
      kind: 'cancelled',
      reason: 'not wanted',
    });
    expect(await performJob(ModeWorker, { mode: 'discard' })).toEqual({
      kind: 'discarded',
      reason: 'hopeless',
    });
    expect(await performJob(ModeWorker, { mode: 'snooze' })).toEqual({ kind: 'snoozed', seconds: 30 });
  });

  it('checks args as an insert does, or passes them through the codec of a generated builder', async () => {
    const at = new Date('2030-05-06T07:08:09.000Z');
    // Without a codec, args are stored as JSON: an insert refuses a Date, and so does performJob.
    await expect(performJob(DatedWorker, { at })).rejects.toThrow(
      "args.at: a Date instance is not plain JSON; pass an ISO string, or build the job with the worker's generated builder (from npx gen): its codec stores Date args (DatedWorker)",
    );
    expect(await performJob({ worker: DatedWorker, codec: datedCodec }, { at })).toEqual({
      kind: 'completed',
      result: '2030-05-06T07:08:09.000Z',
    });
  });
});

describe('drainJobs', () => {
  it('runs the available jobs inline and counts the outcomes', async () => {
    const koban = await start();
    await koban.insertAll(
      (['ok', 'ok', 'throw', 'cancel', 'discard', 'snooze'] as const).map((mode) =>
        newJob(ModeWorker, { mode }),
      ),
    );
    await koban.insert(newJob(ModeWorker, { mode: 'throw' }), { maxAttempts: 1 });
    expect(await drainJobs(koban)).toEqual({
      completed: 2,
      retryable: 1,
      cancelled: 1,
      discarded: 2,
      snoozed: 1,
    });
    expect(await koban.listJobs({ state: 'available' })).toEqual([]);
    expect(await drainJobs(koban)).toEqual({
      completed: 0,
      retryable: 0,
      cancelled: 0,
      discarded: 0,
      snoozed: 0,
    });
  });

  it('runs scheduled jobs only withScheduled', async () => {
    const koban = await start();
    const later = await koban.insert(newJob(ModeWorker, { mode: 'ok' }), { scheduleIn: 3600 });
    expect((await drainJobs(koban)).completed).toBe(0);
    expect((await koban.getJob(later.id))?.state).toBe('scheduled');
    expect((await drainJobs(koban, { withScheduled: true })).completed).toBe(1);
    expect((await koban.getJob(later.id))?.state).toBe('completed');
  });

  it('drains jobs inserted by jobs, unless withRecursion is false', async () => {
    const koban = await start();
    await koban.insert(newJob(ParentWorker, { depth: 3 }));
    expect((await drainJobs(koban, { withRecursion: false })).completed).toBe(1);
    expect(await allEnqueued(koban, { worker: ParentWorker })).toHaveLength(1);
    expect((await drainJobs(koban)).completed).toBe(3);
    expect(await allEnqueued(koban, { worker: ParentWorker })).toEqual([]);
  });

  // Each snooze gives the attempt back and a later pass could make the job available again:
  // drainJobs must still return, with the job left snoozed.
  it('returns even when a job snoozes every time', async () => {
    const koban = await start();
    await koban.insert(newJob(ModeWorker, { mode: 'snooze' }));
    const outcome = await Promise.race([
      drainJobs(koban, { withScheduled: true }),
      new Promise((resolve) => setTimeout(() => resolve('still draining after 10 s'), 10_000)),
    ]);
    expect(outcome).toEqual({ completed: 0, retryable: 0, cancelled: 0, discarded: 0, snoozed: 1 });
  });

  it('drains one queue only when asked', async () => {
    const koban = await start();
    await koban.insert(newJob(ModeWorker, { mode: 'ok' }));
    await koban.insert(newJob(ParentWorker, { depth: 0 }));
    expect((await drainJobs(koban, { queue: 'tree' })).completed).toBe(1);
    await assertEnqueued(koban, { worker: ModeWorker, queue: 'testing' });
  });
});

describe('assertEnqueued, refuteEnqueued and allEnqueued', () => {
  it('match by worker, args subset, meta and queue', async () => {
    const koban = await start();
    await koban.insert(newJob(ModeWorker, { mode: 'ok', n: 1 }), { meta: { tenant: 'a', trace: 'x' } });
    await koban.insert(newJob(ModeWorker, { mode: 'ok', n: 2 }), { queue: 'other', scheduleIn: 60 });
    await koban.insert(newJob(ParentWorker, { depth: 0 }));

    const found = await assertEnqueued(koban, { worker: ModeWorker, args: { n: 1 } });
    expect(found.args).toEqual({ mode: 'ok', n: 1 });
    await assertEnqueued(koban, { worker: 'ModeWorker', meta: { tenant: 'a' } });
    await assertEnqueued(koban, { worker: ModeWorker, queue: 'other', args: { n: 2 } });
    await assertEnqueued(koban, { args: { depth: 0 } });

    await refuteEnqueued(koban, { worker: ModeWorker, args: { n: 3 } });
    await refuteEnqueued(koban, { worker: ModeWorker, meta: { tenant: 'b' } });
    await refuteEnqueued(koban, { worker: ModeWorker, queue: 'testing', args: { n: 2 } });
    await expect(refuteEnqueued(koban, { worker: ParentWorker })).rejects.toThrow(/found 1/);

    expect((await allEnqueued(koban, { worker: ModeWorker })).map((job) => job.args)).toEqual([
      { mode: 'ok', n: 1 },
      { mode: 'ok', n: 2 },
    ]);
    expect(await allEnqueued(koban)).toHaveLength(3);
    expect(await allEnqueued(koban, { worker: ModeWorker, state: 'scheduled' })).toHaveLength(1);
  });

  it('fail with a message listing what is enqueued', async () => {
    const koban = await start();
    await koban.insert(newJob(ModeWorker, { mode: 'ok', n: 1 }), { meta: { tenant: 'a' } });
    const error = await failure(assertEnqueued(koban, { worker: ModeWorker, args: { n: 9 } }));
    expect(error.message).toContain('expected a job matching');
    expect(error.message).toContain('"n":9');
    const listed = error.message.split('enqueued for that worker: ')[1] ?? '';
    expect(JSON.parse(listed)).toEqual({
      queue: 'testing',
      args: { mode: 'ok', n: 1 },
      meta: { tenant: 'a' },
    });

    const none = await failure(assertEnqueued(koban, { worker: ParentWorker }));
    expect(none.message).toMatch(/enqueued for that worker: none/);
  });

  it('compare typed args in stored form for a worker with a codec', async () => {
    const koban = await start();
    const at = new Date('2031-01-02T03:04:05.000Z');
    await koban.insert(newJob(DatedWorker, { at }, {}, datedCodec));
    await assertEnqueued(koban, { worker: { worker: DatedWorker, codec: datedCodec }, args: { at } });
    await refuteEnqueued(koban, {
      worker: { worker: DatedWorker, codec: datedCodec },
      args: { at: new Date('2031-01-02T03:04:06.000Z') },
    });
  });
});
