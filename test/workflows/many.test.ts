import { beforeAll, describe, expect, it } from 'vitest';
import {
  cascade,
  type Job,
  type Koban,
  KobanWorkflowError,
  newJob,
  Recorded,
  Worker,
  workflow,
} from '../../index.js';
import { backends, finished, startOn, statesOf } from './support.js';
import { OutcomeWorker } from './workers.js';

// addMany: many jobs under one step name, which later steps depend on as one dep, and whose
// result is the list of its jobs' results, in the order they were added.

@Worker({ queue: 'many' })
@Recorded()
class Square {
  async process(job: Job<{ n: number }>): Promise<number> {
    return job.args.n * job.args.n;
  }
}

/** Reads the many from inside a worker, as its result. */
@Worker({ queue: 'many' })
@Recorded()
class ReadSquares {
  async process(job: Job<Record<string, never>>): Promise<unknown> {
    return job.workflow!.getRecorded<number[]>('squares');
  }
}

const sum = cascade(
  'sum of squares',
  ({ deps }: { deps: { squares: (number | undefined)[] } }) => ({
    list: deps.squares,
    total: deps.squares.reduce<number>((total, n) => total + (n ?? 0), 0),
  }),
  { queue: 'many' },
);

const wrongSum = cascade('wrong sum', ({ deps }: { deps: { squares: string[] } }) => deps.squares.length);

describe.each(backends)('addMany on %s', (backend) => {
  let koban: Koban;

  beforeAll(async () => {
    koban = await startOn(backend, {
      queues: { many: 4, pipelines: 4 },
      workers: [Square, ReadSquares, OutcomeWorker],
    });
  });

  it('fans out to many jobs as one dep, whose result is the list of their results in order', async () => {
    const flow = workflow()
      .addMany(
        'squares',
        [1, 2, 3, 4, 5, 6].map((n) => newJob(Square, { n })),
      )
      .addCascade('sum', sum, { deps: ['squares'] })
      .add('read', newJob(ReadSquares, {}), { deps: ['squares'] });
    const [first] = await koban.insertAll(flow);
    const id = first!.workflowId!;
    const result = await koban.awaitWorkflow(id, { timeout: 60_000 });
    expect(result.state).toBe('completed');
    expect(result.results).toEqual({
      sum: { list: [1, 4, 9, 16, 25, 36], total: 91 },
      read: [1, 4, 9, 16, 25, 36],
    });
    const status = (await koban.workflowStatus(id))!;
    expect(status.steps.map((step) => step.name)).toEqual([
      'squares.0',
      'squares.1',
      'squares.2',
      'squares.3',
      'squares.4',
      'squares.5',
      'sum',
      'read',
    ]);
    expect(status.steps.find((step) => step.name === 'sum')!.deps).toHaveLength(6);
  }, 90_000);

  it('the many waits for its deps, and a many of one job is a list of one', async () => {
    const flow = workflow()
      .add('first', newJob(Square, { n: 7 }))
      .addMany('squares', [newJob(Square, { n: 3 })], { deps: ['first'] })
      .addCascade('sum', sum, { deps: ['squares'] });
    const [first] = await koban.insertAll(flow);
    const result = await koban.awaitWorkflow(first!.workflowId!, { timeout: 60_000 });
    expect(result.results).toEqual({ sum: { list: [9], total: 9 } });
    const status = (await koban.workflowStatus(first!.workflowId!))!;
    expect(status.steps.find((step) => step.name === 'squares.0')!.deps).toEqual(['first']);
  }, 90_000);

  it('a member that fails cancels the steps that depend on the many', async () => {
    const [first] = await koban.insertAll(
      workflow()
        .addMany('parts', [
          newJob(OutcomeWorker, { outcome: 'complete' }),
          newJob(OutcomeWorker, { outcome: 'discard' }),
        ])
        .add('after', newJob(OutcomeWorker, { outcome: 'complete' }), { deps: ['parts'] }),
    );
    const status = await finished(koban, first!.workflowId!);
    expect(statesOf(status)).toEqual({ 'parts.0': 'completed', 'parts.1': 'discarded', after: 'cancelled' });
  }, 60_000);

  it('types the many as the list of its results, and rejects bad input', () => {
    const base = workflow().addMany('squares', [newJob(Square, { n: 1 })]);
    const mistakes = () => {
      // @ts-expect-error the many's results are numbers, not strings
      base.addCascade('wrong', wrongSum, { deps: ['squares'] });
      // @ts-expect-error the name is taken by the many
      base.add('squares', newJob(Square, { n: 2 }));
    };
    expect(typeof mistakes).toBe('function');
    // @ts-expect-error the name is taken, at run time too
    expect(() => base.addMany('squares', [newJob(Square, { n: 2 })])).toThrow(KobanWorkflowError);
    expect(() => workflow().addMany('none', [])).toThrow(
      'workflow.addMany("none"): expected a non-empty list of jobs from MyWorker.new(args), got an empty list',
    );
    expect(() => workflow().addMany('bad', [newJob(Square, { n: 1 }), {} as never])).toThrow(
      'workflow.addMany("bad"): jobs[1] is not a job from MyWorker.new(args)',
    );
    expect(() => workflow().addMany('bad', 'nope' as never)).toThrow(/expected a non-empty list of jobs/);
    expect(base.kinds).toEqual({ squares: 'many' });
    expect(workflow().addWorkflow('sub', base).kinds).toEqual({ 'sub.squares': 'many' });
  });
});
