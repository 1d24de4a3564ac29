import { beforeAll, describe, expect, it } from 'vitest';
import { type JobRecord, type Koban, newJob, workflow } from '../../index.js';
import { waitFor } from '../support/wait.js';
import { backends, finished, startOn, statesOf } from './support.js';
import {
  AppenderWorker,
  ExtractWorker,
  ExtraWorker,
  FetchWorker,
  LetterWorker,
  LoadWorker,
  MergeWorker,
  ResizeWorker,
  seen,
  TransformWorker,
  workflowQueues,
  workflowWorkers,
} from './workers.js';

// The seed's four workflow patterns, run to completion on each backend: a basic chain, a fan-out,
// a fan-in, and appending to a running workflow. The order is checked from the times the
// database recorded, and each downstream step checks what it read from its deps.

/** Each step started after every one of its deps had completed. */
function expectDepOrder(jobs: readonly JobRecord[], deps: Record<string, readonly string[]>): void {
  const byStep = new Map(jobs.map((job) => [job.workflowStep!, job]));
  for (const [step, names] of Object.entries(deps)) {
    const started = byStep.get(step)!.attemptedAt!.getTime();
    for (const name of names) {
      expect(started, `${step} started after ${name} completed`).toBeGreaterThanOrEqual(
        byStep.get(name)!.completedAt!.getTime(),
      );
    }
  }
}

describe.each(backends)('workflow patterns on %s', (backend) => {
  let koban: Koban;

  beforeAll(async () => {
    koban = await startOn(backend, { queues: workflowQueues, workers: workflowWorkers });
  });

  it('basic chain: extract → transform → load, each reading the one before', async () => {
    const inserted = await koban.insertAll(
      workflow({ workflowName: 'import pipeline' })
        .add('extract', newJob(ExtractWorker, { dataId: 4 }))
        .add('transform', newJob(TransformWorker, {}), { deps: ['extract'] })
        .add('load', newJob(LoadWorker, {}), { deps: ['transform'] }),
    );
    expect(inserted.map((job) => [job.workflowStep, job.state])).toEqual([
      ['extract', 'available'],
      ['transform', 'held'],
      ['load', 'held'],
    ]);
    const id = inserted[0]!.workflowId!;
    expect(inserted.every((job) => job.workflowId === id)).toBe(true);
    const status = await finished(koban, id);
    expect(status).toMatchObject({ id, name: 'import pipeline', state: 'completed' });
    expect(statesOf(status)).toEqual({ extract: 'completed', transform: 'completed', load: 'completed' });
    expectDepOrder(await koban.listJobs({ workflowId: id }), { transform: ['extract'], load: ['transform'] });
    expect(seen.get(id)).toEqual({ transform: { rows: 40 }, load: { rows: 41 } });
  });

  it('fan-out: three resizes wait for one fetch, then run side by side', async () => {
    const flow = workflow()
      .add('fetch', newJob(FetchWorker, { url: 'https://example.com/a.png' }))
      .add('resize_sm', newJob(ResizeWorker, { size: 'small' }), { deps: ['fetch'] })
      .add('resize_md', newJob(ResizeWorker, { size: 'medium' }), { deps: ['fetch'] })
      .add('resize_lg', newJob(ResizeWorker, { size: 'large' }), { deps: ['fetch'] });
    const [fetch] = await koban.insertAll(flow);
    const id = fetch!.workflowId!;
    const status = await finished(koban, id);
    expect(status.counts.completed).toBe(4);
    const jobs = await koban.listJobs({ workflowId: id });
    expectDepOrder(jobs, { resize_sm: ['fetch'], resize_md: ['fetch'], resize_lg: ['fetch'] });
    const bytes = 'https://example.com/a.png'.length;
    expect(seen.get(id)).toEqual({
      resize_sm: { bytes },
      resize_md: { bytes },
      resize_lg: { bytes },
    });
    const recorded = await Promise.all(
      jobs.filter((job) => job.worker === 'ResizeWorker').map((job) => koban.fetchRecorded(job.id)),
    );
    expect(recorded.map((value) => (value.status === 'ok' ? value.value : value.reason)).sort()).toEqual([
      `large:${bytes}`,
      `medium:${bytes}`,
      `small:${bytes}`,
    ]);
  });

  it('fan-in: merge waits for three parallel steps and reads all their values', async () => {
    const [first] = await koban.insertAll(
      workflow()
        .add('step_a', newJob(LetterWorker, { letter: 'a' }))
        .add('step_b', newJob(LetterWorker, { letter: 'b' }))
        .add('step_c', newJob(LetterWorker, { letter: 'c' }))
        .add('merge', newJob(MergeWorker, {}), { deps: ['step_a', 'step_b', 'step_c'] }),
    );
    const id = first!.workflowId!;
    await finished(koban, id);
    expectDepOrder(await koban.listJobs({ workflowId: id }), { merge: ['step_a', 'step_b', 'step_c'] });
    expect(seen.get(id)).toEqual({ merge: { step_a: 'a', step_b: 'b', step_c: 'c' } });
  });

  it('append: a step added to a running workflow waits for its dep, like the others', async () => {
    // The transform step sleeps until released, so that the workflow is still running when the step is appended.
    const [extract] = await koban.insertAll(
      workflow()
        .add('extract', newJob(ExtractWorker, { dataId: 1 }))
        .add('transform', newJob(TransformWorker, {}), { deps: ['extract'] })
        .add('load', newJob(LoadWorker, {}), { deps: ['transform'] }),
    );
    const id = extract!.workflowId!;
    const appended = await koban.appendWorkflow(id, (flow) =>
      flow.add('extra', newJob(ExtraWorker, {}), { deps: ['transform'] }),
    );
    expect(appended).toHaveLength(1);
    expect(appended[0]).toMatchObject({ workflowId: id, workflowStep: 'extra' });
    const status = await finished(koban, id);
    expect(statesOf(status)).toEqual({
      extract: 'completed',
      transform: 'completed',
      load: 'completed',
      extra: 'completed',
    });
    expectDepOrder(await koban.listJobs({ workflowId: id }), { extra: ['transform'] });
    expect(seen.get(id)).toMatchObject({ extra: ['transform'] });
    expect(status.steps.find((step) => step.name === 'extra')?.deps).toEqual(['transform']);
  });

  it('appending after the dep completed: the new step is available at once', async () => {
    const [first] = await koban.insertAll(workflow().add('extract', newJob(ExtractWorker, { dataId: 2 })));
    const id = first!.workflowId!;
    await finished(koban, id);
    const [late] = await koban.appendWorkflow(id, (flow) =>
      flow.add('late', newJob(TransformWorker, {}), { deps: ['extract'] }),
    );
    expect(late!.state).toBe('available');
    await waitFor(
      'the late step to complete',
      async () => (await koban.getJob(late!.id))?.state === 'completed',
    );
    expect(seen.get(id)).toEqual({ late: { rows: 20 } });
  });

  it('a running step appends steps to its own workflow, which wait for it', async () => {
    const [parent] = await koban.insertAll(workflow().add('parent', newJob(AppenderWorker, { children: 3 })));
    const id = parent!.workflowId!;
    await waitFor('the appended children', async () => (await koban.workflowStatus(id))?.steps.length === 4);
    const status = await finished(koban, id);
    expect(status.state).toBe('completed');
    expect(status.steps.map((step) => [step.name, step.deps])).toEqual([
      ['parent', []],
      ['child_0', ['parent']],
      ['child_1', ['parent']],
      ['child_2', ['parent']],
    ]);
    // While the parent ran, its children were held.
    expect(seen.get(id)).toEqual({ parent: ['held', 'held', 'held'] });
    expectDepOrder(await koban.listJobs({ workflowId: id }), {
      child_0: ['parent'],
      child_1: ['parent'],
      child_2: ['parent'],
    });
  });
});
