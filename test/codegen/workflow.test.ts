import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  defineWorker,
  isWorkflow,
  type Job,
  type JobSpec,
  type JobWorkflow,
  KobanWorkflowError,
  newJob,
  type StepNameTaken,
  type WorkflowAppender,
  type WorkflowSteps,
  workflow,
} from '../../index.js';
import { appendingWorkflow } from '../../sdk/workflow.js';

class ExtractWorker {
  async process(job: Job<{ dataId: number }>): Promise<{ rows: number }> {
    return { rows: job.args.dataId };
  }
}
class TransformWorker {
  async process(_job: Job<{ factor?: number }>): Promise<void> {}
}
class LoadWorker {
  async process(_job: Job<{ table: string }>): Promise<void> {}
}
defineWorker(ExtractWorker, { queue: 'pipelines' });
defineWorker(TransformWorker, { queue: 'pipelines' });
defineWorker(LoadWorker, { queue: 'pipelines' });

const extract = newJob(ExtractWorker, { dataId: 1 });
const transform = newJob(TransformWorker, {});
const load = newJob(LoadWorker, { table: 'facts' });

describe('workflow() types', () => {
  it('accepts steps whose deps were added before', () => {
    const flow = workflow()
      .add('extract', extract)
      .add('transform', transform, { deps: ['extract'] })
      .add('load', load, { deps: ['extract', 'transform'] });
    expectTypeOf<keyof WorkflowSteps<typeof flow>>().toEqualTypeOf<'extract' | 'transform' | 'load'>();
    expectTypeOf<WorkflowSteps<typeof flow>['extract']>().toEqualTypeOf<
      JobSpec<{ dataId: number }, { rows: number }>
    >();
  });

  it('rejects an unknown dep, a dep on itself, a repeated name and wrong args at compile time', () => {
    const flow = workflow()
      .add('extract', extract)
      .add('transform', transform, { deps: ['extract'] });
    expect(() => {
      // @ts-expect-error "transfrom" is not a step of this workflow
      flow.add('load', load, { deps: ['transfrom'] });
    }).toThrow(KobanWorkflowError);
    expect(() => {
      // @ts-expect-error a step can't wait for itself
      flow.add('load', load, { deps: ['load'] });
    }).toThrow(KobanWorkflowError);
    expect(() => {
      // @ts-expect-error step "extract" is already in this workflow
      flow.add('extract', extract);
    }).toThrow(KobanWorkflowError);
    // @ts-expect-error dataId is a number
    newJob(ExtractWorker, { dataId: 'one' });
    expect(() => {
      // @ts-expect-error the first step has nothing to wait for
      workflow().add('first', extract, { deps: ['extract'] });
    }).toThrow(KobanWorkflowError);
  });

  it('types sub-workflows: their name and qualified steps may be deps; a taken name is an error', () => {
    const sub = workflow()
      .add('extract', extract)
      .add('transform', transform, { deps: ['extract'] });
    const flow = workflow()
      .add('first', extract)
      .addWorkflow('part', sub, { deps: ['first'] });
    expectTypeOf<keyof WorkflowSteps<typeof flow>>().toEqualTypeOf<
      'first' | 'part' | 'part.extract' | 'part.transform'
    >();
    expectTypeOf<WorkflowSteps<typeof flow>['part.extract']>().toEqualTypeOf<
      JobSpec<{ dataId: number }, { rows: number }>
    >();
    flow.add('after', load, { deps: ['part', 'part.transform'] });
    expect(() => {
      // @ts-expect-error "prt" is not a step or sub-workflow of this workflow
      flow.add('after', load, { deps: ['prt'] });
    }).toThrow(KobanWorkflowError);
    expect(() => {
      // @ts-expect-error step "part" is already in this workflow
      flow.addWorkflow('part', sub);
    }).toThrow(KobanWorkflowError);
  });

  it('lets an append name steps of the running workflow, but not repeat its own', () => {
    const append: WorkflowAppender = (flow) =>
      flow.add('extra', load, { deps: ['transform'] }).add('more', load, { deps: ['extra', 'extract'] });
    expect(append(appendingWorkflow()).steps.map((step) => step.deps)).toEqual([
      ['transform'],
      ['extra', 'extract'],
    ]);
    const again: WorkflowAppender = (flow) =>
      // @ts-expect-error step "extra" is already in this workflow
      flow.add('extra', load).add('extra', load);
    expect(() => again(appendingWorkflow())).toThrow(KobanWorkflowError);
  });

  it("types a dep's recorded value from its worker", () => {
    // Type-checked, not run: it needs a running workflow.
    const read = async (flow: JobWorkflow) => {
      expectTypeOf(await flow.getRecorded('extract', ExtractWorker)).toEqualTypeOf<
        { rows: number } | undefined
      >();
      expectTypeOf(await flow.getRecorded<string>('other')).toEqualTypeOf<string | undefined>();
    };
    expect(read).toBeTypeOf('function');
  });

  it('reads the duplicate-name error as a sentence', () => {
    const flow = workflow().add('extract', extract);
    type NameParameter = Parameters<typeof flow.add<'extract', typeof extract>>[0];
    expectTypeOf<NameParameter>().toEqualTypeOf<StepNameTaken<'extract'>>();
    expectTypeOf<
      StepNameTaken<'extract'>
    >().toEqualTypeOf<'step "extract" is already in this workflow; give each step its own name'>();
  });
});

describe('workflow() data', () => {
  it('is immutable: add returns a new workflow and leaves the old one as it was', () => {
    const first = workflow().add('extract', extract);
    const second = first.add('transform', transform, { deps: ['extract'] });
    expect(first.steps.map((step) => step.name)).toEqual(['extract']);
    expect(second.steps).toEqual([
      { name: 'extract', spec: extract, deps: [], options: {} },
      { name: 'transform', spec: transform, deps: ['extract'], options: {} },
    ]);
    expect(Object.isFrozen(second.steps)).toBe(true);
    // A branch from the first workflow sees neither the other branch's steps nor its names.
    const branch = first.add('load', load, { deps: ['extract'] }).add('transform', transform);
    expect(branch.steps.map((step) => step.name)).toEqual(['extract', 'load', 'transform']);
    expect(second.steps.map((step) => step.name)).toEqual(['extract', 'transform']);
    expect(() =>
      (second as unknown as { add(name: string, spec: unknown): unknown }).add('load', load),
    ).not.toThrow();
    expect(Object.isFrozen(second.steps[1]!.deps)).toBe(true);
  });

  it('is plain data without an id, with options, recognised by isWorkflow', () => {
    const flow = workflow({ ignoreCancelled: true }).add('extract', extract);
    expect(flow).toMatchObject({ kind: 'workflow', options: { ignoreCancelled: true } });
    expect('id' in flow).toBe(false);
    expect(isWorkflow(flow)).toBe(true);
    expect(isWorkflow({ steps: [] })).toBe(false);
    expect(isWorkflow(extract)).toBe(false);
  });

  it('checks at run time too, for callers without types', () => {
    const untyped = workflow() as unknown as {
      add(name: unknown, spec: unknown, options?: unknown): unknown;
    };
    expect(() => untyped.add('', extract)).toThrow(/non-empty string/);
    expect(() => untyped.add('x', { args: {} })).toThrow(/expected a job from MyWorker\.new/);
    expect(() => untyped.add('x', extract, { deps: 'extract' })).toThrow(/deps must be a list/);
    expect(() => untyped.add('x', extract, { deps: ['nope'] })).toThrow(
      'workflow.add("x"): deps name steps not added before it: nope (added: none yet). Add those steps first',
    );
  });
});
