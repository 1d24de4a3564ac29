import { beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import {
  type Job,
  type Koban,
  KobanValidationError,
  KobanWorkflowError,
  newJob,
  Recorded,
  Worker,
  type WorkflowResults,
  workflow,
} from '../../index.js';
import { backends, startOn } from './support.js';

// A workflow's result: the recorded values of the steps `.returns(...)` names (by default its
// last steps), readable once every step has finished, a many's as one list.

@Worker({ queue: 'results' })
@Recorded()
class Count {
  async process(job: Job<{ n: number }>): Promise<{ count: number }> {
    return { count: job.args.n };
  }
}

@Worker({ queue: 'results' })
@Recorded()
class Label {
  async process(job: Job<{ text: string }>): Promise<string> {
    return job.args.text;
  }
}

describe.each(backends)('workflow results on %s', (backend) => {
  let koban: Koban;

  beforeAll(async () => {
    koban = await startOn(backend, {
      queues: { results: { limit: 4, paused: true } },
      workers: [Count, Label],
    });
  });

  it('is null while a step runs, then the values of the steps it returns', async () => {
    const flow = workflow({ context: { tenant: 'acme' } })
      .add('count', newJob(Count, { n: 3 }))
      .add('label', newJob(Label, { text: 'done' }), { deps: ['count'] })
      .add('audit', newJob(Label, { text: 'audit' }), { deps: ['count'] })
      .returns('count', 'label');
    const [first] = await koban.insertAll(flow);
    const id = first!.workflowId!;
    expect(await koban.workflowResult(id)).toBeNull();
    await koban.resumeQueue('results');
    const awaited = await koban.awaitWorkflow<WorkflowResults<typeof flow>>(id, { timeout: 60_000 });
    expectTypeOf(awaited.results.count).toEqualTypeOf<{ count: number } | undefined>();
    expectTypeOf(awaited.results.label).toEqualTypeOf<string | undefined>();
    const expected = {
      id,
      state: 'completed',
      results: { count: { count: 3 }, label: 'done' },
      context: { tenant: 'acme' },
    };
    expect(awaited).toEqual(expected);
    expect(await koban.workflowResult(id)).toEqual(expected);
  }, 90_000);

  it('gives a many as the list of its jobs values, named or as a last step', async () => {
    await koban.resumeQueue('results');
    const flow = workflow()
      .add('count', newJob(Count, { n: 1 }))
      .addMany(
        'labels',
        ['x', 'y', 'z'].map((text) => newJob(Label, { text })),
        { deps: ['count'] },
      );
    const [named] = await koban.insertAll(flow.returns('labels'));
    const result = await koban.awaitWorkflow(named!.workflowId!, { timeout: 60_000 });
    expect(result.results).toEqual({ labels: ['x', 'y', 'z'] });
    expectTypeOf<WorkflowResults<typeof flow>['labels']>().toEqualTypeOf<(string | undefined)[]>();
    const [last] = await koban.insertAll(flow);
    expect((await koban.awaitWorkflow(last!.workflowId!, { timeout: 60_000 })).results).toEqual({
      labels: ['x', 'y', 'z'],
    });
  }, 90_000);

  it('rejects names that are not steps, and unknown workflows', async () => {
    const flow = workflow()
      .add('count', newJob(Count, { n: 1 }))
      .addWorkflow('sub', workflow().add('inner', newJob(Count, { n: 2 })));
    // @ts-expect-error not a step of the workflow
    expect(() => flow.returns('counted')).toThrow(
      'workflow.returns(): "counted" is not a step or a many of the workflow; add it first',
    );
    expect(() => flow.returns('sub')).toThrow(/a sub-workflow: name its steps/);
    expect(() => flow.returns()).toThrow(KobanWorkflowError);
    expect(flow.returns('sub.inner').options.returns).toEqual(['sub.inner']);
    await expect(koban.workflowResult('0190c3a0-0000-7000-8000-000000000000')).rejects.toThrow(
      KobanValidationError,
    );
  });
});
