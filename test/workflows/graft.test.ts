import { beforeAll, describe, expect, it } from 'vitest';
import { cascade, type Job, type Koban, newJob, Recorded, Worker, workflow } from '../../index.js';
import { waitFor } from '../support/wait.js';
import { backends, finished, startOn, statesOf } from './support.js';
import { OutcomeWorker } from './workers.js';

// addGraft: a step whose job grows the workflow when it runs; the steps that depend on the
// graft wait for what it grafted as well as for the graft's own job.

@Worker({ queue: 'grafts' })
@Recorded()
class Square {
  async process(job: Job<{ n: number }>): Promise<number> {
    return job.args.n * job.args.n;
  }
}

@Worker({ queue: 'grafts' })
@Recorded()
class Splitter {
  async process(job: Job<{ parts: number; failFirstAttempt?: boolean; waitForParts?: boolean }>) {
    const flow = job.workflow!;
    const grafted = await flow.graft((wf) => {
      let grown = wf;
      for (let n = 0; n < job.args.parts; n++) grown = grown.add(`part_${n}`, newJob(Square, { n }));
      return grown;
    });
    if (job.args.failFirstAttempt && job.attempt === 1) throw new Error('fails after grafting');
    if (job.args.waitForParts) {
      // The parts finish while the graft still runs: its dependents must wait for it all the same.
      await waitFor(
        'the grafted parts',
        async () => (await flow.jobs({ states: ['completed'] })).length >= job.args.parts,
        30_000,
      );
    }
    return grafted.map((step) => step.workflowStep);
  }
  backoff() {
    return 0;
  }
}

/** A plain step that tries to graft: it may not. */
@Worker({ queue: 'grafts' })
@Recorded()
class Sneaky {
  async process(job: Job<Record<string, never>>): Promise<string> {
    try {
      await job.workflow!.graft((wf) => wf.add('x', newJob(Square, { n: 1 })));
      return 'grafted';
    } catch (error) {
      return (error as Error).message;
    }
  }
}

/** Grafts a step that fails. */
@Worker({ queue: 'grafts' })
class FailingGraft {
  async process(job: Job<Record<string, never>>) {
    await job.workflow!.graft((wf) =>
      wf
        .add('ok', newJob(OutcomeWorker, { outcome: 'complete' }))
        .add('bad', newJob(OutcomeWorker, { outcome: 'discard' }), { deps: ['ok'] }),
    );
  }
}

const gather = cascade('gather grafted', ({ deps }: { deps: Record<string, unknown> }) => deps, {
  queue: 'grafts',
});

describe.each(backends)('addGraft on %s', (backend) => {
  let koban: Koban;

  beforeAll(async () => {
    koban = await startOn(backend, {
      queues: { grafts: 6, pipelines: 2 },
      workers: [Square, Splitter, Sneaky, FailingGraft, OutcomeWorker],
    });
  });

  for (const waitForParts of [false, true]) {
    it(`dependents wait for the grafted steps and the graft (parts finish ${waitForParts ? 'before' : 'after'} it)`, async () => {
      const [first] = await koban.insertAll(
        workflow()
          .addGraft('split', newJob(Splitter, { parts: 4, waitForParts }))
          .addCascade('gather', gather, { deps: ['split'] }),
      );
      const id = first!.workflowId!;
      const result = await koban.awaitWorkflow(id, { timeout: 60_000 });
      expect(result.state).toBe('completed');
      expect(result.results).toEqual({
        gather: {
          split: ['split.part_0', 'split.part_1', 'split.part_2', 'split.part_3'],
          'split.part_0': 0,
          'split.part_1': 1,
          'split.part_2': 4,
          'split.part_3': 9,
        },
      });
      const status = (await koban.workflowStatus(id))!;
      expect(status.steps.find((step) => step.name === 'gather')!.deps).toEqual([
        'split',
        'split.part_0',
        'split.part_1',
        'split.part_2',
        'split.part_3',
      ]);
    }, 90_000);
  }

  it('a graft grows once: its retry adds nothing and sees the steps it added', async () => {
    const [first] = await koban.insertAll(
      workflow()
        .addGraft('split', newJob(Splitter, { parts: 2, failFirstAttempt: true }))
        .addCascade('gather', gather, { deps: ['split'] }),
    );
    const id = first!.workflowId!;
    const result = await koban.awaitWorkflow(id, { timeout: 60_000 });
    expect(result.results).toEqual({
      gather: { split: ['split.part_0', 'split.part_1'], 'split.part_0': 0, 'split.part_1': 1 },
    });
    const split = (await koban.listJobs({ workflowId: id })).find((job) => job.workflowStep === 'split')!;
    expect(split.attempt).toBe(2);
  }, 90_000);

  it('a grafted step that fails cancels the graft dependents', async () => {
    const [first] = await koban.insertAll(
      workflow()
        .addGraft('grow', newJob(FailingGraft, {}))
        .add('after', newJob(OutcomeWorker, { outcome: 'complete' }), { deps: ['grow'] }),
    );
    const status = await finished(koban, first!.workflowId!);
    expect(statesOf(status)).toEqual({
      grow: 'completed',
      'grow.ok': 'completed',
      'grow.bad': 'discarded',
      after: 'cancelled',
    });
  }, 60_000);

  it('only a step added with addGraft may graft', async () => {
    const [first] = await koban.insertAll(workflow().add('plain', newJob(Sneaky, {})));
    const result = await koban.awaitWorkflow(first!.workflowId!, { timeout: 60_000 });
    expect(result.results.plain).toMatch(
      /graft from step "plain" \(job \d+\): only a step added with workflow\(\)\.addGraft\(name, job\) may graft/,
    );
    expect(statesOf((await koban.workflowStatus(first!.workflowId!))!)).toEqual({ plain: 'completed' });
  }, 60_000);
});
