import { beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import {
  cascade,
  type Job,
  type Koban,
  KobanConfigError,
  newJob,
  Recorded,
  Worker,
  type WorkflowStep,
  workflow,
} from '../../index.js';
import { backends, startOn, statesOf } from './support.js';

// Cascades: steps that are plain functions of the workflow's context and their deps' recorded
// results, typed by the deps' workers, with their own results recorded for later steps.

@Worker({ queue: 'cascades' })
@Recorded()
class CountOrders {
  async process(job: Job<{ day: string }>): Promise<{ orders: number }> {
    return { orders: job.args.day.length };
  }
}

const double = cascade(
  'double orders',
  ({ deps }: { deps: { count: { orders: number } } }) => deps.count.orders * 2,
  {
    queue: 'cascades',
  },
);

const report = cascade(
  'report',
  async ({
    deps,
    context,
  }: {
    deps: { double: number; count: { orders: number } };
    context: { tenant: string };
  }) => `${context.tenant}: ${deps.count.orders} orders, doubled ${deps.double}`,
  { queue: 'cascades' },
);

let calls = 0;
const flaky = cascade(
  'flaky',
  () => {
    calls++;
    throw new Error('the cascade fails');
  },
  { queue: 'cascades', maxAttempts: 2 },
);

const wrong = cascade('wrong', ({ deps }: { deps: { count: { orders: string } } }) => deps.count.orders);

describe.each(backends)('cascades on %s', (backend) => {
  let koban: Koban;

  beforeAll(async () => {
    // An explicit worker list without Koban's cascade worker: cascades run all the same.
    koban = await startOn(backend, { queues: { cascades: 5 }, workers: [CountOrders] });
  });

  it('runs each cascade with its deps results and the context, and records what it returns', async () => {
    const flow = workflow({ context: { tenant: 'acme' } })
      .add('count', newJob(CountOrders, { day: 'monday' }))
      .addCascade('double', double, { deps: ['count'] })
      .addCascade('report', report, { deps: ['double', 'count'] });
    const [first] = await koban.insertAll(flow);
    const result = await koban.awaitWorkflow<{ report: string }>(first!.workflowId!);
    expect(result.state).toBe('completed');
    expect(result.results).toEqual({ report: 'acme: 6 orders, doubled 12' });
    const jobs = await koban.listJobs({ workflowId: first!.workflowId! });
    const doubled = jobs.find((job) => job.workflowStep === 'double')!;
    expect(doubled).toMatchObject({
      worker: 'koban.cascade',
      queue: 'cascades',
      args: { cascade: 'double orders' },
    });
    expect(await koban.fetchRecorded(doubled)).toEqual({ status: 'ok', value: 12 });
  });

  it('a cascade that throws is retried, then fails its workflow', async () => {
    calls = 0;
    const [first] = await koban.insertAll(
      workflow()
        .add('count', newJob(CountOrders, { day: 'x' }))
        .addCascade('flaky', flaky, { deps: ['count'] }),
    );
    const result = await koban.awaitWorkflow(first!.workflowId!, { timeout: 120_000 });
    expect(result.state).toBe('failed');
    expect(statesOf((await koban.workflowStatus(first!.workflowId!))!)).toEqual({
      count: 'completed',
      flaky: 'discarded',
    });
    expect(calls).toBe(2);
  }, 150_000);

  it('checks cascades and their deps at compile time and when defined', () => {
    const base = workflow().add('count', newJob(CountOrders, { day: 'x' }));
    // Compiled, never run: the mistakes the compiler refuses.
    const mistakes = () => {
      // @ts-expect-error count records { orders: number }, not { orders: string }
      base.addCascade('wrong', wrong, { deps: ['count'] });
      // @ts-expect-error a dep on a step that was not added
      base.addCascade('double', double, { deps: ['counted'] });
    };
    expect(typeof mistakes).toBe('function');
    const typed = base.addCascade('double', double, { deps: ['count'] });
    expectTypeOf(typed.steps).toEqualTypeOf<readonly WorkflowStep[]>();
    expect(typed.steps.map((step) => step.name)).toEqual(['count', 'double']);
    expect(() => base.addCascade('x', {} as never, { deps: ['count'] })).toThrow(
      /expected a cascade\(name, fn\)/,
    );
    expect(() => cascade('', () => 1)).toThrow(KobanConfigError);
    expect(() => cascade('double orders', () => 2)).toThrow(
      'cascade("double orders"): a different cascade is already defined under this name',
    );
    expect(() => cascade('bad queue', () => 1, { queue: 'no spaces' })).toThrow(KobanConfigError);
  });
});
