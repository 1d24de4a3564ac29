import { assertEnqueued, drainJobs, refuteEnqueued, runBatch, runWorkflow } from 'koban/testing';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  batch,
  defineWorker,
  type Job,
  Koban,
  KobanAssertionError,
  KobanConfigError,
  newJob,
  workflow,
} from '../../index.js';
import { EveryCallback, runsOf, TaskWorker } from '../batches/workers.js';
import { quietLogger } from '../support/wait.js';
import { backends, startOn } from '../workflows/support.js';
import {
  ExtractWorker,
  LoadWorker,
  OutcomeWorker,
  TransformWorker,
  workflowWorkers,
} from '../workflows/workers.js';

// The helpers of koban/testing for workflows and batches, and the testing modes, against real
// databases; each assertion helper also fails where it must, with its message checked.

let inlineKoban: Koban | undefined;

/** Inserts a child job while it runs, to test inserts made by jobs. */
class Spawner {
  async process(job: Job<{ children: number }>) {
    for (let n = 0; n < job.args.children; n++)
      await inlineKoban!.insert(newJob(OutcomeWorker, { outcome: 'complete' }));
  }
}
defineWorker(Spawner, { queue: 'pipelines' });

const workers = [...workflowWorkers, TaskWorker, EveryCallback, Spawner];

describe.each(backends)('koban/testing on %s', (backend) => {
  it('runWorkflow runs a workflow to the end and types each step value', async () => {
    const koban = await startOn(backend, { testing: 'manual', workers });
    const run = await runWorkflow(
      koban,
      workflow()
        .add('extract', newJob(ExtractWorker, { dataId: 3 }))
        .add('transform', newJob(TransformWorker, {}), { deps: ['extract'] })
        .add('load', newJob(LoadWorker, {}), { deps: ['transform'] }),
    );
    expectTypeOf(run.steps.extract.value).toEqualTypeOf<{ rows: number } | undefined>();
    expect(run.state).toBe('completed');
    expect(run.steps.extract).toMatchObject({ state: 'completed', value: { rows: 30 } });
    expect(run.steps.transform.value).toEqual({ rows: 31 });
    expect(run.steps.load).toMatchObject({ state: 'completed', value: undefined });
    expect(run.steps.load.job.workflowId).toBe(run.workflowId);
  });

  it('runWorkflow retries a failing step at once, and reports a failed workflow', async () => {
    const koban = await startOn(backend, { testing: 'manual', workers });
    const run = await runWorkflow(
      koban,
      workflow()
        .add('flaky', newJob(OutcomeWorker, { outcome: 'complete', failUntilAttempt: 2 }))
        .add('bad', newJob(OutcomeWorker, { outcome: 'throw' }))
        .add('after', newJob(OutcomeWorker, { outcome: 'complete' }), { deps: ['bad'] }),
    );
    expect(run.state).toBe('failed');
    expect(run.steps.flaky).toMatchObject({ state: 'completed', job: { attempt: 2 } });
    expect(run.steps.bad).toMatchObject({ state: 'discarded', job: { attempt: 3 } });
    expect(run.steps.after.state).toBe('cancelled');
  });

  it('runBatch runs the jobs and the callbacks that fire', async () => {
    const koban = await startOn(backend, { testing: 'manual', workers });
    const run = await runBatch(
      koban,
      batch([newJob(TaskWorker, {}), newJob(TaskWorker, { outcome: 'discard' })], {
        callbackWorker: EveryCallback,
      }),
    );
    expect(run.jobs.map((job) => job.state)).toEqual(['completed', 'discarded']);
    expect(Object.keys(run.callbacks).sort()).toEqual(['attempted', 'discarded', 'exhausted']);
    expect(run.callbacks.exhausted?.state).toBe('completed');
    expect(run.status).toMatchObject({ finished: true, total: 2 });
    expect(
      runsOf(run.batchId)
        .map((entry) => entry.callback)
        .sort(),
    ).toEqual(['attempted', 'discarded', 'exhausted']);
  });

  it('drainJobs runs released steps and batch callbacks too, unless told not to recurse', async () => {
    const koban = await startOn(backend, { testing: 'manual', workers });
    await koban.insertAll(
      workflow()
        .add('a', newJob(OutcomeWorker, { outcome: 'complete' }))
        .add('b', newJob(OutcomeWorker, { outcome: 'complete' }), { deps: ['a'] }),
    );
    expect(await drainJobs(koban, { withRecursion: false })).toMatchObject({ completed: 1 });
    expect(await drainJobs(koban)).toMatchObject({ completed: 1 });
    const [first] = await koban.insertAll(batch([newJob(TaskWorker, {})], { callbackWorker: EveryCallback }));
    expect(await drainJobs(koban)).toMatchObject({ completed: 3 });
    expect(
      runsOf(first!.batchId!)
        .map((entry) => entry.callback)
        .sort(),
    ).toEqual(['attempted', 'completed']);
  });

  it('assertEnqueued waits up to its timeout for a job another task enqueues, and says what it waited for', async () => {
    const koban = await startOn(backend, { testing: 'manual', workers });
    setTimeout(() => void koban.insert(newJob(TaskWorker, { ms: 1 })), 200);
    const job = await assertEnqueued(koban, { worker: TaskWorker, args: { ms: 1 } }, { timeout: 5000 });
    expect(job.worker).toBe('TaskWorker');
    const error = await assertEnqueued(
      koban,
      { worker: TaskWorker, args: { ms: 2 } },
      { timeout: 100 },
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KobanAssertionError);
    expect((error as Error).message).toBe(
      'expected a job matching {"worker":"TaskWorker","args":{"ms":2}} to be enqueued within 100 ms; ' +
        'enqueued for that worker: {"queue":"tasks","args":{"ms":1},"meta":{}}',
    );
    await expect(refuteEnqueued(koban, { worker: TaskWorker })).rejects.toThrow(
      /^expected no job matching \{"worker":"TaskWorker"\} to be enqueued, found 1 \(first id \d+\)$/,
    );
  });

  it("testing: 'manual' runs nothing by itself", async () => {
    const koban = await startOn(backend, { testing: 'manual', queues: { tasks: 5 }, workers });
    const job = await koban.insert(newJob(TaskWorker, {}));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await koban.getJob(job.id))?.state).toBe('available');
    expect(koban.queues()).toEqual([]);
  });

  it("testing: 'inline' runs inserts at once, with what they cause, before returning", async () => {
    const koban = await startOn(backend, { testing: 'inline', workers });
    inlineKoban = koban;
    const job = await koban.insert(newJob(TaskWorker, {}));
    expect(job).toMatchObject({ state: 'completed', attempt: 1, conflict: false });
    const steps = await koban.insertAll(
      workflow()
        .add('extract', newJob(ExtractWorker, { dataId: 5 }))
        .add('transform', newJob(TransformWorker, {}), { deps: ['extract'] }),
    );
    expect(steps.map((step) => step.state)).toEqual(['completed', 'completed']);
    expect(await koban.fetchRecorded(steps[1]!.id)).toEqual({ status: 'ok', value: { rows: 51 } });
    // A job that inserts jobs: they run in the same pass, and the insert inside the job returns at once.
    const parent = await koban.insert(newJob(Spawner, { children: 3 }));
    expect(parent.state).toBe('completed');
    expect(await koban.listJobs({ worker: 'OutcomeWorker', state: 'completed' })).toHaveLength(3);
    // A throwing job is retried as it would be: this worker's backoff is 0, so at once, until discarded.
    const failing = await koban.insert(newJob(OutcomeWorker, { outcome: 'throw' }));
    expect(failing).toMatchObject({ state: 'discarded', attempt: 3 });
  });
});

describe('the testing option', () => {
  it('refuses an unknown mode', async () => {
    await expect(
      Koban.start({ testing: 'auto' as never, logger: quietLogger, workers: [TaskWorker] }),
    ).rejects.toThrow(new KobanConfigError(`testing: expected 'manual' or 'inline', got "auto"`));
  });
});
