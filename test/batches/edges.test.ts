import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  batch,
  defineWorker,
  type Job,
  type Koban,
  KobanBatchError,
  KobanValidationError,
  newJob,
  workflow,
} from '../../index.js';
import { waitFor } from '../support/wait.js';
import { backends, finished, startOn } from '../workflows/support.js';
import { batchQueues, batchWorkers, EveryCallback, runsOf, TaskWorker } from './workers.js';

/** A callback worker that this node does not run: deployed away, say. */
class GoneWorker {
  async process() {}
  async handleCompleted(_job: Job<Record<string, never>>) {}
}
defineWorker(GoneWorker, { queue: 'callbacks' });

describe.each(backends)('batch edges on %s', (backend) => {
  let koban: Koban;

  beforeAll(async () => {
    koban = await startOn(backend, { queues: batchQueues, workers: batchWorkers });
  });

  it('a callback worker this node lacks: the callback job says so and waits, the jobs are unaffected', async () => {
    const [first] = await koban.insertAll(batch([newJob(TaskWorker, {})], { callbackWorker: GoneWorker }));
    const batchId = first!.batchId!;
    const callback = await waitFor('the callback job to be given back', async () => {
      const jobs = await koban.listJobs({ batchId, worker: 'GoneWorker' });
      return jobs[0]?.state === 'scheduled' ? jobs[0] : null;
    });
    expect(callback.errors[0]?.error).toContain(
      'KobanUnknownWorkerError: no worker named "GoneWorker" runs on node',
    );
    expect(callback.attempt).toBe(0);
    expect((await koban.getJob(first!.id))?.state).toBe('completed');
    expect(await koban.batchStatus(batchId)).toMatchObject({ fired: ['completed'], finished: true });
  });

  it('jobs that are workflow steps and batch jobs: cascaded cancels count in the batch', async () => {
    const batchId = randomUUID();
    const inserted = await koban.insertAll(
      workflow()
        .add('fails', newJob(TaskWorker, { outcome: 'discard' }, { batchId }))
        .add('skipped', newJob(TaskWorker, {}, { batchId }), { deps: ['fails'] })
        .add('fine', newJob(TaskWorker, {}, { batchId })),
    );
    await finished(koban, inserted[0]!.workflowId!);
    const status = await waitFor('the batch to finish', async () => {
      const current = await koban.batchStatus(batchId);
      return current?.finished ? current : null;
    });
    expect(status.counts).toMatchObject({ completed: 1, discarded: 1, cancelled: 1 });
    expect(status.total).toBe(3);
    // TaskWorker has no callbacks: the batch is tracked, and none fire.
    expect(status.fired).toEqual([]);
  });

  it('callbacks of a batch of workflow steps count the steps the cascade cancelled', async () => {
    const batchId = randomUUID();
    // The first job's worker implements the callbacks: it is the batch's callback worker.
    const inserted = await koban.insertAll(
      workflow()
        .add('first', newJob(EveryCallback, {}, { batchId }))
        .add('fails', newJob(TaskWorker, { outcome: 'discard' }, { batchId }), { deps: ['first'] })
        .add('skipped', newJob(TaskWorker, {}, { batchId }), { deps: ['fails'] }),
    );
    await finished(koban, inserted[0]!.workflowId!);
    await waitFor('the callbacks', () => runsOf(batchId).length === 4);
    expect(
      runsOf(batchId)
        .map((run) => run.callback)
        .sort(),
    ).toEqual(['attempted', 'cancelled', 'discarded', 'exhausted']);
  });

  it('refuses bad batches with a clear error, inserting nothing', async () => {
    expect(() => batch([])).toThrow(
      new KobanValidationError([
        { path: 'batch(jobs)', message: 'expected a non-empty array of jobs built by MyWorker.new(args)' },
      ]),
    );
    expect(() => batch([{ worker: 'x' } as never])).toThrow(
      'batch(jobs): jobs[0] is not a job built by MyWorker.new(args)',
    );
    expect(() => batch([newJob(TaskWorker, {})], { batchId: 'seven' })).toThrow(
      'batch(): batchId must be a UUID, got "seven"',
    );
    const before = (await koban.listJobs({ limit: 1000 })).length;
    await expect(
      koban.insertAll(batch([newJob(TaskWorker, {})], { callbackWorker: TaskWorker })),
    ).rejects.toThrow(
      new KobanBatchError(
        'TaskWorker is named as the callback worker, but has none of the methods handleAttempted, handleCompleted, handleDiscarded, handleExhausted, handleCancelled, handleRetryable',
      ),
    );
    expect((await koban.listJobs({ limit: 1000 })).length).toBe(before);
  });
});
