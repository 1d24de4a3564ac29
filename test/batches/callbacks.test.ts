import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BatchStatus, batch, type Koban, newJob } from '../../index.js';
import { waitFor } from '../support/wait.js';
import { backends, startOn } from '../workflows/support.js';
import { batchQueues, batchWorkers, EmailBatchWorker, EveryCallback, runsOf, TaskWorker } from './workers.js';

// The seed's batches: jobs built with one batch id, or with batch(jobs, options), and the
// callback table, each callback checked both when its condition holds and when it does not.

const task = (args: Parameters<TaskWorker['process']>[0]['args'] = {}) => newJob(TaskWorker, args);

describe.each(backends)('batch callbacks on %s', (backend) => {
  let koban: Koban;

  beforeAll(async () => {
    koban = await startOn(backend, { queues: batchQueues, workers: batchWorkers });
  });

  /** Waits until every job of the batch has finished and its callback jobs have too. */
  async function settled(id: string): Promise<BatchStatus> {
    return waitFor(
      `batch ${id} to settle`,
      async () => {
        const status = await koban.batchStatus(id);
        if (!status?.finished) return null;
        const pending = await koban.listJobs({
          batchId: id,
          state: ['available', 'executing', 'scheduled', 'retryable'],
        });
        return pending.length === 0 ? status : null;
      },
      30_000,
    );
  }

  it("the seed's form: jobs built with one batch id; handleCompleted runs once, handleExhausted not", async () => {
    const batchId = randomUUID();
    const emails = ['a@example.com', 'b@example.com', 'c@example.com'];
    await koban.insertAll(emails.map((email) => EmailBatchWorker_new(email, batchId)));
    const status = await settled(batchId);
    expect(status).toMatchObject({ total: 3, fired: ['completed'], callbacks: ['completed', 'exhausted'] });
    expect(status.counts.completed).toBe(3);
    expect(runsOf(batchId)).toEqual([
      { callback: 'completed', batchId, args: {}, meta: {}, queue: 'mailers', jobs: 3 },
    ]);
  });

  it('one address fails until it is exhausted: handleExhausted runs, handleCompleted not', async () => {
    const batchId = randomUUID();
    await koban.insertAll(
      ['ok@example.com', 'fail@example.com'].map((email) => EmailBatchWorker_new(email, batchId)),
    );
    const status = await settled(batchId);
    expect(status.fired).toEqual(['exhausted']);
    expect(status.counts).toMatchObject({ completed: 1, discarded: 1 });
    expect(runsOf(batchId).map((run) => run.callback)).toEqual(['exhausted']);
  });

  it('batch(jobs, options): a callback worker for mixed jobs, with its args, meta and queue', async () => {
    const inserted = await koban.insertAll(
      batch([task(), newJob(EmailBatchWorker, { email: 'x@example.com' })], {
        batchName: 'mixed',
        callbackWorker: EveryCallback,
        callbackArgs: { flaky: 'none' },
        callbackMeta: { requestedBy: 'test' },
        callbackQueue: 'callbacks',
      }),
    );
    const batchId = inserted[0]!.batchId!;
    expect(inserted.every((job) => job.batchId === batchId)).toBe(true);
    const status = await settled(batchId);
    expect(status).toMatchObject({ name: 'mixed', total: 2, fired: ['attempted', 'completed'] });
    expect(
      runsOf(batchId)
        .map((run) => run.callback)
        .sort(),
    ).toEqual(['attempted', 'completed']);
    expect(runsOf(batchId)[0]).toMatchObject({
      args: { flaky: 'none' },
      meta: { requestedBy: 'test' },
      queue: 'callbacks',
      jobs: 2,
    });
    // The callback jobs carry the batch id, but are not among the batch's jobs.
    expect((await koban.listJobs({ batchId })).length).toBe(4);
  });

  async function run(jobs: ReturnType<typeof task>[], flaky = 'none') {
    const [first] = await koban.insertAll(
      batch(jobs, { callbackWorker: EveryCallback, callbackArgs: { flaky } }),
    );
    const batchId = first!.batchId!;
    const status = await settled(batchId);
    return {
      status,
      fired: [...status.fired].sort(),
      ran: runsOf(batchId)
        .map((entry) => entry.callback)
        .sort(),
    };
  }

  it('all completed on the first attempt: attempted and completed, nothing else', async () => {
    const { fired, ran } = await run([task(), task(), task()]);
    expect(fired).toEqual(['attempted', 'completed']);
    expect(ran).toEqual(fired);
  });

  it('one discarded: discarded, attempted and exhausted; never completed', async () => {
    const { fired, ran } = await run([task(), task({ outcome: 'discard' })]);
    expect(fired).toEqual(['attempted', 'discarded', 'exhausted']);
    expect(ran).toEqual(fired);
  });

  it('one cancelled: cancelled, attempted and exhausted; never completed or discarded', async () => {
    const { fired } = await run([task(), task({ outcome: 'cancel' })]);
    expect(fired).toEqual(['attempted', 'cancelled', 'exhausted']);
  });

  it('one retried then completed: retryable, attempted, completed; never exhausted', async () => {
    const { status, fired } = await run([task(), task({ failUntilAttempt: 2 })]);
    expect(fired).toEqual(['attempted', 'completed', 'retryable']);
    expect(status.counts.completed).toBe(2);
  });

  it('retries a callback that fails, without inserting it again', async () => {
    const [first] = await koban.insertAll(
      batch([task()], { callbackWorker: EveryCallback, callbackArgs: { flaky: 'completed' } }),
    );
    const batchId = first!.batchId!;
    await settled(batchId);
    const callbacks = (await koban.listJobs({ batchId })).filter((job) => job.id !== first!.id);
    const completed = callbacks.filter((job) =>
      job.errors.some((error) => error.error.includes('completed fails once')),
    );
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({ state: 'completed', attempt: 2 });
    expect(runsOf(batchId).filter((entry) => entry.callback === 'completed')).toHaveLength(1);
  });

  it('appendBatch: the callbacks wait for the appended jobs', async () => {
    const [slow] = await koban.insertAll(batch([task({ ms: 500 })], { callbackWorker: EveryCallback }));
    const batchId = slow!.batchId!;
    const appended = await koban.appendBatch(batchId, [task(), task({ ms: 300 })]);
    expect(appended.every((job) => job.batchId === batchId)).toBe(true);
    const status = await settled(batchId);
    expect(status.total).toBe(3);
    expect(status.counts.completed).toBe(3);
    expect(runsOf(batchId).filter((entry) => entry.callback === 'completed')).toEqual([
      expect.objectContaining({ jobs: 3 }),
    ]);
    await expect(koban.appendBatch(batchId, [task()])).rejects.toThrow(
      `appendBatch(${batchId}): all 3 jobs of the batch have finished and its callbacks have run; start a new batch`,
    );
    await expect(koban.appendBatch('0190e1b4-0000-7000-8000-00000000dead', [task()])).rejects.toThrow(
      'appendBatch: no batch has the id 0190e1b4-0000-7000-8000-00000000dead; insert it first, or it was pruned',
    );
  });
});

/** `EmailBatchWorker.new(args, { batchId })`, as the generated builder writes it. */
function EmailBatchWorker_new(email: string, batchId: string) {
  return newJob(EmailBatchWorker, { email }, { batchId });
}
