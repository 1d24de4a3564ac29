import { beforeAll, describe, expect, it } from 'vitest';
import { type JobRecord, type Koban, newJob, type StepFlags, workflow } from '../../index.js';
import { waitFor } from '../support/wait.js';
import { backends, finished, startOn, statesOf } from './support.js';
import { OutcomeWorker, workflowQueues, workflowWorkers } from './workers.js';

// A dep that ends cancelled or discarded cancels the steps waiting for it, transitively, and
// each cancelled step records which dep caused it; the ignore options make such a dep count as
// done instead. Retries of a dep keep its dependents waiting.

type Outcome = 'complete' | 'throw' | 'cancel' | 'discard';

/** first → second → third → fourth, the first ending as `outcome`, `flags` on the second step. */
function chain(outcome: Outcome, flags: StepFlags = {}, workflowFlags: StepFlags = {}) {
  return workflow(workflowFlags)
    .add('first', newJob(OutcomeWorker, { outcome }))
    .add('second', newJob(OutcomeWorker, { outcome: 'complete' }), { deps: ['first'], ...flags })
    .add('third', newJob(OutcomeWorker, { outcome: 'complete' }), { deps: ['second'] })
    .add('fourth', newJob(OutcomeWorker, { outcome: 'complete' }), { deps: ['third'] });
}

const lastError = (job: JobRecord | undefined) => job?.errors.at(-1)?.error;

describe.each(backends)('workflow failures on %s', (backend) => {
  let koban: Koban;

  beforeAll(async () => {
    koban = await startOn(backend, { queues: workflowQueues, workers: workflowWorkers });
  });

  async function run(flow: ReturnType<typeof chain>) {
    const [first] = await koban.insertAll(flow);
    const status = await finished(koban, first!.workflowId!);
    const jobs = await koban.listJobs({ workflowId: first!.workflowId! });
    return { status, byStep: Object.fromEntries(jobs.map((job) => [job.workflowStep!, job])) };
  }

  it('a discarded dep cancels three levels of dependents, each naming its cause', async () => {
    const { status, byStep } = await run(chain('discard'));
    expect(status.state).toBe('failed');
    expect(statesOf(status)).toEqual({
      first: 'discarded',
      second: 'cancelled',
      third: 'cancelled',
      fourth: 'cancelled',
    });
    expect(lastError(byStep.second)).toMatch(
      new RegExp(
        `^cancelled: workflow dep "first" \\(job ${byStep.first!.id}\\) was discarded; set ignoreDiscarded`,
      ),
    );
    expect(lastError(byStep.third)).toContain(
      `workflow dep "second" (job ${byStep.second!.id}) was cancelled`,
    );
    expect(lastError(byStep.fourth)).toContain(
      `workflow dep "third" (job ${byStep.third!.id}) was cancelled`,
    );
    // The cancelled steps never ran.
    for (const step of ['second', 'third', 'fourth']) expect(byStep[step]!.attempt).toBe(0);
  });

  it('a dep that ran out of attempts counts as discarded', async () => {
    const { status } = await run(chain('throw'));
    expect(statesOf(status)).toEqual({
      first: 'discarded',
      second: 'cancelled',
      third: 'cancelled',
      fourth: 'cancelled',
    });
  });

  it('a cancelled dep cancels its dependents', async () => {
    const { status, byStep } = await run(chain('cancel'));
    expect(statesOf(status)).toEqual({
      first: 'cancelled',
      second: 'cancelled',
      third: 'cancelled',
      fourth: 'cancelled',
    });
    expect(lastError(byStep.second)).toContain('was cancelled; set ignoreCancelled');
  });

  it('ignoreDiscarded on a step runs it, and the chain after it, despite a discarded dep', async () => {
    const { status } = await run(chain('discard', { ignoreDiscarded: true }));
    expect(statesOf(status)).toEqual({
      first: 'discarded',
      second: 'completed',
      third: 'completed',
      fourth: 'completed',
    });
  });

  it('ignoreCancelled on a step runs it despite a cancelled dep; ignoreDiscarded does not', async () => {
    expect(statesOf((await run(chain('cancel', { ignoreCancelled: true }))).status)).toEqual({
      first: 'cancelled',
      second: 'completed',
      third: 'completed',
      fourth: 'completed',
    });
    expect(statesOf((await run(chain('cancel', { ignoreDiscarded: true }))).status).second).toBe('cancelled');
    expect(statesOf((await run(chain('discard', { ignoreCancelled: true }))).status).second).toBe(
      'cancelled',
    );
  });

  it('workflow-level options apply to every step; a step may set its own', async () => {
    expect(statesOf((await run(chain('discard', {}, { ignoreDiscarded: true }))).status).fourth).toBe(
      'completed',
    );
    expect(
      statesOf((await run(chain('discard', { ignoreDiscarded: false }, { ignoreDiscarded: true }))).status)
        .second,
    ).toBe('cancelled');
  });

  it('a dep cancelled by hand cancels its dependents', async () => {
    const [first] = await koban.insertAll(
      workflow()
        .add('slow', newJob(OutcomeWorker, { outcome: 'complete', ms: 60_000 }))
        .add('after', newJob(OutcomeWorker, { outcome: 'complete' }), { deps: ['slow'] })
        .add('last', newJob(OutcomeWorker, { outcome: 'complete' }), { deps: ['after'] }),
    );
    await waitFor(
      'the slow step to start',
      async () => (await koban.getJob(first!.id))?.state === 'executing',
    );
    expect(await koban.cancelJob(first!.id)).toBe(true);
    const status = await finished(koban, first!.workflowId!);
    expect(statesOf(status)).toEqual({ slow: 'cancelled', after: 'cancelled', last: 'cancelled' });
  });

  it('a dep deleted before it finished cancels its dependents, unless they ignoreDeleted', async () => {
    const flow = workflow()
      .add('doomed', newJob(OutcomeWorker, { outcome: 'complete' }), {})
      .add('strict', newJob(OutcomeWorker, { outcome: 'complete' }), { deps: ['doomed'] })
      .add('lenient', newJob(OutcomeWorker, { outcome: 'complete' }), {
        deps: ['doomed'],
        ignoreDeleted: true,
      });
    await koban.pauseQueue('pipelines');
    try {
      const [doomed] = await koban.insertAll(flow);
      expect(await koban.deleteJob(doomed!.id)).toBe(true);
      await koban.resumeQueue('pipelines');
      const status = await finished(koban, doomed!.workflowId!);
      expect(statesOf(status)).toEqual({ strict: 'cancelled', lenient: 'completed' });
      const [strict] = await koban.listJobs({ workflowId: doomed!.workflowId!, state: 'cancelled' });
      expect(lastError(strict)).toContain('workflow dep "doomed"');
      expect(lastError(strict)).toContain('was deleted; set ignoreDeleted');
    } finally {
      await koban.resumeQueue('pipelines');
    }
  });

  it('a dep that fails and is retried keeps its dependents waiting, then releases them', async () => {
    const [first] = await koban.insertAll(
      workflow()
        .add('flaky', newJob(OutcomeWorker, { outcome: 'complete', failUntilAttempt: 3 }))
        .add('after', newJob(OutcomeWorker, { outcome: 'complete' }), { deps: ['flaky'] }),
    );
    const status = await finished(koban, first!.workflowId!);
    expect(statesOf(status)).toEqual({ flaky: 'completed', after: 'completed' });
    const flaky = await koban.getJob(first!.id);
    expect(flaky!.attempt).toBe(3);
    expect(flaky!.errors).toHaveLength(2);
  });
});
