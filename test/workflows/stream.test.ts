import { beforeAll, describe, expect, it } from 'vitest';
import {
  type Job,
  type JobRecord,
  type Koban,
  KobanValidationError,
  newJob,
  Recorded,
  Worker,
  type Workflow,
  workflow,
} from '../../index.js';
import { waitFor } from '../support/wait.js';
import { backends, startOn } from './support.js';

// Streaming a workflow's jobs: an async iterator in insert order, read a page at a time by id,
// over the jobs still running and those already finished alike.

@Worker({ queue: 'stream_run' })
class Quick {
  async process(_job: Job<{ n: number }>) {}
}

@Worker({ queue: 'stream_idle' })
class Idle {
  async process(_job: Job<{ n: number }>) {}
}

/** Streams its deps two at a time, and records their steps. */
@Worker({ queue: 'stream_run' })
@Recorded()
class StreamDeps {
  async process(job: Job<Record<string, never>>): Promise<string[]> {
    const steps: string[] = [];
    for await (const dep of job.workflow!.streamJobs({ onlyDeps: true, batchSize: 2 }))
      steps.push(dep.workflowStep!);
    return steps;
  }
}

async function collect(source: AsyncIterable<JobRecord>): Promise<JobRecord[]> {
  const jobs: JobRecord[] = [];
  for await (const job of source) jobs.push(job);
  return jobs;
}

describe.each(backends)('streaming workflow jobs on %s', (backend) => {
  let koban: Koban;

  beforeAll(async () => {
    koban = await startOn(backend, {
      queues: { stream_run: 4 },
      workers: [Quick, Idle, StreamDeps],
    });
  });

  it('yields every job once, in insert order, over finished and waiting jobs, page by page', async () => {
    // Every third step runs (and moves to the history); the others wait in a queue nobody runs.
    let flow: Workflow<any> = workflow();
    for (let n = 0; n < 1250; n++) {
      flow = flow.add(`s${n}`, n % 3 === 0 ? newJob(Quick, { n }) : newJob(Idle, { n }));
    }
    const inserted = await koban.insertAll(flow);
    const id = inserted[0]!.workflowId!;
    await waitFor(
      'the quick steps',
      async () => (await koban.workflowStatus(id))!.counts.completed === 417,
      60_000,
    );
    const streamed = await collect(koban.streamWorkflowJobs(id, { batchSize: 100 }));
    expect(streamed.map((job) => job.id)).toEqual(inserted.map((job) => job.id));
    expect(streamed.filter((job) => job.state === 'completed')).toHaveLength(417);
    expect(streamed[3]!.args).toEqual({ n: 3 });
    const completed = await collect(koban.streamWorkflowJobs(id, { states: ['completed'], batchSize: 7 }));
    expect(completed.map((job) => job.workflowStep)).toEqual(
      inserted.filter((_, n) => n % 3 === 0).map((job) => job.workflowStep),
    );
    const named = await collect(koban.streamWorkflowJobs(id, { names: ['s5', 's1249'] }));
    expect(named.map((job) => job.workflowStep)).toEqual(['s5', 's1249']);
  }, 120_000);

  it('reads jobs appended while it streams at the end', async () => {
    const [first] = await koban.insertAll(
      workflow()
        .add('a', newJob(Idle, { n: 1 }))
        .add('b', newJob(Idle, { n: 2 })),
    );
    const id = first!.workflowId!;
    const seen: string[] = [];
    for await (const job of koban.streamWorkflowJobs(id, { batchSize: 1 })) {
      seen.push(job.workflowStep!);
      if (job.workflowStep === 'a') {
        await koban.appendWorkflow(id, (wf) => wf.add('c', newJob(Idle, { n: 3 }), { deps: ['b'] }));
      }
    }
    expect(seen).toEqual(['a', 'b', 'c']);
  });

  it('streams a step deps from inside the step', async () => {
    const [first] = await koban.insertAll(
      workflow()
        .addMany(
          'parts',
          [1, 2, 3, 4, 5].map((n) => newJob(Quick, { n })),
        )
        .add('read', newJob(StreamDeps, {}), { deps: ['parts'] }),
    );
    const result = await koban.awaitWorkflow(first!.workflowId!, { timeout: 60_000 });
    expect(result.results).toEqual({ read: ['parts.0', 'parts.1', 'parts.2', 'parts.3', 'parts.4'] });
  }, 90_000);

  it('rejects a bad batch size where it is passed', () => {
    const id = '0190c3a0-0000-7000-8000-000000000000';
    expect(() => koban.streamWorkflowJobs(id, { batchSize: 0 })).toThrow(KobanValidationError);
    expect(() => koban.streamWorkflowJobs(id, { batchSize: 1.5 })).toThrow(
      'streamJobs: batchSize: expected a whole number from 1 to 100000, got 1.5',
    );
    expect(() => koban.streamWorkflowJobs(id, { onlyDeps: true })).toThrow(/job.workflow.streamJobs/);
    expect(() => koban.streamWorkflowJobs('nope')).toThrow(/workflowId/);
  });
});
