import { beforeAll, describe, expect, it } from 'vitest';
import { type Koban, KobanWorkflowError, newJob, workflow } from '../../index.js';
import { waitFor } from '../support/wait.js';
import { backends, finished, startOn, statesOf } from './support.js';
import { OutcomeWorker, workflowQueues, workflowWorkers } from './workers.js';

// Appending to a workflow: deps may name steps that are still running, that completed (they
// count as done), or that failed (the new step is cancelled at once unless it ignores that).

describe.each(backends)('appending to workflows on %s', (backend) => {
  let koban: Koban;

  beforeAll(async () => {
    koban = await startOn(backend, { queues: workflowQueues, workers: workflowWorkers });
  });

  async function settledWorkflow(outcome: 'complete' | 'discard' | 'cancel') {
    const [first] = await koban.insertAll(workflow().add('root', newJob(OutcomeWorker, { outcome })));
    await finished(koban, first!.workflowId!);
    return first!.workflowId!;
  }

  it('cancels a step appended to a dep that already failed, naming the dep', async () => {
    const id = await settledWorkflow('discard');
    const [late] = await koban.appendWorkflow(id, (flow) =>
      flow
        .add('late', newJob(OutcomeWorker, { outcome: 'complete' }), { deps: ['root'] })
        .add('later', newJob(OutcomeWorker, { outcome: 'complete' }), { deps: ['late'] }),
    );
    const status = await finished(koban, id);
    expect(statesOf(status)).toEqual({ root: 'discarded', late: 'cancelled', later: 'cancelled' });
    const job = await koban.getJob(late!.id);
    expect(job!.errors.at(-1)?.error).toContain('workflow dep "root"');
  });

  it('runs a step appended to a failed dep it ignores', async () => {
    const id = await settledWorkflow('cancel');
    await koban.appendWorkflow(id, (flow) =>
      flow.add('late', newJob(OutcomeWorker, { outcome: 'complete' }), {
        deps: ['root'],
        ignoreCancelled: true,
      }),
    );
    await waitFor('the late step', async () => (await koban.workflowStatus(id))?.state === 'failed');
    expect(statesOf((await koban.workflowStatus(id))!)).toEqual({ root: 'cancelled', late: 'completed' });
  });

  it('appends steps that depend on each other and on a sub-workflow', async () => {
    const sub = workflow()
      .add('a', newJob(OutcomeWorker, { outcome: 'complete' }))
      .add('b', newJob(OutcomeWorker, { outcome: 'complete' }), { deps: ['a'] });
    const [first] = await koban.insertAll(workflow().addWorkflow('part', sub));
    const id = first!.workflowId!;
    await koban.appendWorkflow(id, (flow) =>
      flow
        .add('after_part', newJob(OutcomeWorker, { outcome: 'complete' }), { deps: ['part'] })
        .add('last', newJob(OutcomeWorker, { outcome: 'complete' }), { deps: ['after_part', 'part.a'] }),
    );
    const status = await finished(koban, id);
    expect(status.steps.map((step) => [step.name, step.state, step.deps])).toEqual([
      ['part.a', 'completed', []],
      ['part.b', 'completed', ['part.a']],
      ['after_part', 'completed', ['part.a', 'part.b']],
      ['last', 'completed', ['after_part', 'part.a']],
    ]);
  });

  it('refuses an unknown workflow id, an unknown dep, a taken name and a cycle, adding nothing', async () => {
    const id = await settledWorkflow('complete');
    const step = newJob(OutcomeWorker, { outcome: 'complete' });
    await expect(
      koban.appendWorkflow('0190e1b4-0000-7000-8000-00000000ffff', (flow) => flow.add('x', step)),
    ).rejects.toThrow(
      new KobanWorkflowError(
        'appendWorkflow: no workflow has the id 0190e1b4-0000-7000-8000-00000000ffff; it was never inserted, or was pruned',
      ),
    );
    await expect(koban.appendWorkflow(id, (flow) => flow.add('x', step, { deps: ['nope'] }))).rejects.toThrow(
      `appendWorkflow(${id}): deps name steps the workflow does not have: nope`,
    );
    await expect(koban.appendWorkflow(id, (flow) => flow.add('root', step))).rejects.toThrow(
      `appendWorkflow(${id}): the workflow already has steps named root; give each step its own name`,
    );
    // Within one append, a dep on a step added later is a cycle when that step waits for the first.
    await expect(
      koban.appendWorkflow(id, (flow) =>
        flow.add('x', step, { deps: ['y'] }).add('y', step, { deps: ['x'] }),
      ),
    ).rejects.toThrow(`appendWorkflow(${id}): dependency cycle: x → y → x`);
    await expect(koban.appendWorkflow('not-a-uuid', (flow) => flow.add('x', step))).rejects.toThrow(
      'appendWorkflow: workflowId must be a UUID, got "not-a-uuid"',
    );
    expect((await koban.workflowStatus(id))!.steps.map((row) => row.name)).toEqual(['root']);
  });
});
