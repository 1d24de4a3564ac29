import { beforeAll, describe, expect, it } from 'vitest';
import { type Koban, KobanWorkflowError, newJob, type Workflow, workflow } from '../../index.js';
import { backends, finished, startOn } from './support.js';
import { OutcomeWorker, workflowWorkers } from './workers.js';

// Bad workflows fail at build time or at insert, with an error that says what and where, and
// insert nothing. A wide workflow is not bad input.

const step = () => newJob(OutcomeWorker, { outcome: 'complete' });

/** A workflow as plain data, the way a caller without types could hand one over. */
function handBuilt(steps: { name: unknown; deps: string[] }[]): Workflow {
  return {
    kind: 'workflow',
    options: {},
    groups: {},
    external: false,
    steps: steps.map(({ name, deps }) => ({ name, deps, spec: step(), options: {} })),
  } as unknown as Workflow;
}

describe.each(backends)('bad workflows on %s', (backend) => {
  let koban: Koban;

  beforeAll(async () => {
    koban = await startOn(backend, { queues: {}, workers: workflowWorkers });
  });

  async function refused(source: Workflow, message: string) {
    await expect(koban.insertAll(source)).rejects.toThrow(new KobanWorkflowError(message));
    expect(await koban.listJobs()).toEqual([]);
  }

  it('refuses a dependency cycle, naming its steps', async () => {
    await refused(
      handBuilt([
        { name: 'a', deps: ['c'] },
        { name: 'b', deps: ['a'] },
        { name: 'c', deps: ['b'] },
      ]),
      'insertAll(workflow): dependency cycle: a → c → b → a',
    );
    await refused(
      handBuilt([{ name: 'self', deps: ['self'] }]),
      'insertAll(workflow): dependency cycle: self → self',
    );
  });

  it('refuses an empty workflow', async () => {
    await refused(
      workflow(),
      'insertAll(workflow): the workflow has no steps; add one with .add(name, Worker.new(args))',
    );
  });

  it('refuses a step name that is not a string, at build time and at insert', async () => {
    expect(() =>
      (workflow() as unknown as { add(name: unknown, spec: unknown): unknown }).add(42, step()),
    ).toThrow('workflow.add(42): the step name must be a non-empty string, got 42');
    await refused(
      handBuilt([{ name: 42, deps: [] }]),
      'insertAll(workflow): steps[0] has no name: step names are non-empty strings, got 42',
    );
  });

  it('refuses a dep on a step that does not exist, and a unique job as a step', async () => {
    await refused(
      handBuilt([{ name: 'a', deps: ['ghost'] }]),
      'insertAll(workflow): step "a" depends on "ghost", which is not a step of the workflow',
    );
  });

  it('refuses a workflow id that is taken', async () => {
    const id = '0190e1b4-0000-7000-8000-0000000000aa';
    await koban.insertAll(workflow({ workflowId: id }).add('a', step()));
    await expect(koban.insertAll(workflow({ workflowId: id }).add('b', step()))).rejects.toThrow(
      `workflow ${id} already exists: add steps to a running workflow with koban.appendWorkflow(id, build)`,
    );
    expect((await koban.listJobs()).map((job) => job.workflowStep)).toEqual(['a']);
  });

  it('refuses bad options when the workflow is built', () => {
    expect(() => workflow({ workflowId: 'nope' })).toThrow(
      'workflow(): workflowId must be a UUID, got "nope"',
    );
    expect(() => workflow({ waitingDelay: -1 })).toThrow(
      'workflow(): waitingDelay must be a whole number of at least 0 (milliseconds), got -1',
    );
    expect(() => workflow().add('a', step(), { ignoreCancelled: 'yes' as unknown as boolean })).toThrow(
      'workflow.add("a"): ignoreCancelled must be true or false, got "yes"',
    );
    expect(() => workflow().add('a.b', step())).toThrow(/step names may not contain '\.'/);
  });
});

describe('a wide workflow on postgres', () => {
  it('runs a step with 10,000 deps once they have all completed', async () => {
    const koban = await startOn('postgres', { queues: { pipelines: 50 }, workers: workflowWorkers });
    let flow: Workflow<any> = workflow();
    const names = Array.from({ length: 10_000 }, (_, index) => `part_${index}`);
    for (const name of names) flow = flow.add(name, step());
    flow = flow.add('merge', step(), { deps: names });
    const inserted = await koban.insertAll(flow);
    expect(inserted.at(-1)).toMatchObject({ workflowStep: 'merge', state: 'held' });
    const status = await finished(koban, inserted[0]!.workflowId!, 120_000);
    expect(status.counts.completed).toBe(10_001);
    const merge = status.steps.find((row) => row.name === 'merge')!;
    expect(merge.deps).toHaveLength(10_000);
    const jobs = await koban.listJobs({
      workflowId: inserted[0]!.workflowId!,
      state: 'completed',
      limit: 20_000,
    });
    const lastPart = Math.max(
      ...jobs.filter((job) => job.workflowStep !== 'merge').map((job) => job.completedAt!.getTime()),
    );
    expect(jobs.find((job) => job.workflowStep === 'merge')!.attemptedAt!.getTime()).toBeGreaterThanOrEqual(
      lastPart,
    );
  });
});
