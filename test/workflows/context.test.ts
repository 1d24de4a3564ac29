import { beforeAll, describe, expect, it } from 'vitest';
import {
  type Job,
  type Koban,
  KobanAwaitTimeoutError,
  KobanWorkflowError,
  newJob,
  Recorded,
  Worker,
  workflow,
} from '../../index.js';
import { backends, startOn } from './support.js';

// A workflow's context: set when it is built, read and extended by its steps (sub-workflows
// included), merged atomically however many steps put at once; and a workflow's result.

interface Context {
  tenant: string;
  [key: string]: string | number;
}

const seen = new Map<string, unknown>();

@Worker({ queue: 'context' })
@Recorded()
class Reader {
  async process(job: Job<{ put?: number }>): Promise<Context> {
    const flow = job.workflow!;
    if (job.args.put !== undefined) await flow.putContext<Context>({ [`k${job.args.put}`]: job.args.put });
    return flow.getContext<Context>();
  }
}

@Worker({ queue: 'context' })
class BadPut {
  async process(job: Job<Record<string, never>>) {
    try {
      await job.workflow!.putContext([] as never);
    } catch (error) {
      seen.set(job.workflow!.id, (error as Error).message);
    }
  }
}

@Worker({ queue: 'context_idle' })
class Idle {
  async process(_job: Job<Record<string, never>>) {}
}

describe.each(backends)('workflow context and result on %s', (backend) => {
  let koban: Koban;

  beforeAll(async () => {
    koban = await startOn(backend, { queues: { context: 10 }, workers: [Reader, BadPut, Idle] });
  });

  it('steps read the context, every concurrent put is kept, and the result has the last steps', async () => {
    let fan = workflow({ context: { tenant: 'acme' } }).add('first', newJob(Reader, { put: 0 }));
    for (let index = 1; index <= 10; index++) {
      fan = fan.add(`put_${index}`, newJob(Reader, { put: index }), { deps: ['first'] }) as typeof fan;
    }
    const sub = workflow().add('inner', newJob(Reader, {}));
    const names = Array.from({ length: 10 }, (_, index) => `put_${index + 1}`);
    const flow = fan
      .addWorkflow('sub', sub, { deps: names as never })
      .add('last', newJob(Reader, {}), { deps: ['sub'] });
    const [first] = await koban.insertAll(flow);
    const result = await koban.awaitWorkflow<{ last: Context }>(first!.workflowId!);
    const expected: Context = { tenant: 'acme' };
    for (let index = 0; index <= 10; index++) expected[`k${index}`] = index;
    expect(result.state).toBe('completed');
    expect(result.context).toEqual(expected);
    // Only the step no other step depends on gives the result; it saw every put before it.
    expect(Object.keys(result.results)).toEqual(['last']);
    expect(result.results.last).toEqual(expected);
    // The sub-workflow's step shares the context.
    const inner = await koban.fetchRecorded<Context>(
      (await koban.listJobs({ workflowId: first!.workflowId! })).find(
        (job) => job.workflowStep === 'sub.inner',
      )!,
    );
    expect(inner).toEqual({ status: 'ok', value: expected });
  });

  it('a workflow without context reads {}; a bad put is refused with the field', async () => {
    const [job] = await koban.insertAll(
      workflow()
        .add('read', newJob(Reader, {}))
        .add('bad', newJob(BadPut, {}), { deps: ['read'] }),
    );
    const result = await koban.awaitWorkflow(job!.workflowId!);
    expect(result.context).toEqual({});
    expect(await koban.fetchRecorded(job!)).toEqual({ status: 'ok', value: {} });
    expect(seen.get(job!.workflowId!)).toMatch(/^putContext: values: expected an object, got \[\]/);
  });

  it('refuses a context that is not an object when the workflow is built', () => {
    expect(() => workflow({ context: [1] as never })).toThrow(KobanWorkflowError);
    expect(() => workflow({ context: 'x' as never })).toThrow(
      'workflow(): context must be a JSON object, got "x"',
    );
  });

  it('awaitWorkflow gives up after its timeout; the workflow goes on', async () => {
    const [job] = await koban.insertAll(workflow().add('idle', newJob(Idle, {})));
    const failure = await koban
      .awaitWorkflow(job!.workflowId!, { timeout: 200 })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(KobanAwaitTimeoutError);
    expect((failure as Error).message).toMatch(
      /^workflow .* had not finished after 200 ms \(it is executing\)/,
    );
  });
});
