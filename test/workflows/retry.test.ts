import { beforeAll, describe, expect, it } from 'vitest';
import { type Koban, newJob, workflow } from '../../index.js';
import { waitFor } from '../support/wait.js';
import { backends, finished, startOn, statesOf } from './support.js';
import { OutcomeWorker, workflowQueues, workflowWorkers } from './workers.js';

// Retrying a failed workflow by hand: the dep comes back for one more attempt, and the steps it
// had cancelled come back waiting for it (held), never available while the dep is on its retry.

describe.each(backends)('retrying a failed workflow on %s', (backend) => {
  let koban: Koban;

  beforeAll(async () => {
    koban = await startOn(backend, { queues: workflowQueues, workers: workflowWorkers });
  });

  /** first → second → third, the first out of attempts after 3 (its 4th attempt completes). */
  async function failedChain() {
    const [first] = await koban.insertAll(
      workflow()
        .add('first', newJob(OutcomeWorker, { outcome: 'complete', failUntilAttempt: 4 }))
        .add('second', newJob(OutcomeWorker, { outcome: 'complete' }), { deps: ['first'] })
        .add('third', newJob(OutcomeWorker, { outcome: 'complete' }), { deps: ['second'] }),
    );
    const workflowId = first!.workflowId!;
    expect(statesOf(await finished(koban, workflowId))).toEqual({
      first: 'discarded',
      second: 'cancelled',
      third: 'cancelled',
    });
    return workflowId;
  }

  it('retryJobs({ workflowId }) holds the cancelled dependents until the retried dep completes', async () => {
    const workflowId = await failedChain();
    await koban.pauseQueue('pipelines');
    try {
      expect(await koban.retryJobs({ workflowId })).toBe(3);
      const status = await koban.workflowStatus(workflowId);
      expect(statesOf(status!)).toEqual({ first: 'available', second: 'held', third: 'held' });
    } finally {
      await koban.resumeQueue('pipelines');
    }
    const status = await finished(koban, workflowId);
    expect(statesOf(status)).toEqual({ first: 'completed', second: 'completed', third: 'completed' });
    // Each step started only after the step it waits for completed.
    const jobs = await koban.listJobs({ workflowId });
    const byStep = Object.fromEntries(jobs.map((job) => [job.workflowStep!, job]));
    expect(byStep.second!.attemptedAt!.getTime()).toBeGreaterThanOrEqual(
      byStep.first!.completedAt!.getTime(),
    );
    expect(byStep.third!.attemptedAt!.getTime()).toBeGreaterThanOrEqual(
      byStep.second!.completedAt!.getTime(),
    );
    expect(byStep.second!.attempt).toBe(1);
  });

  it('a retried dep that fails again cancels its dependents again', async () => {
    const [first] = await koban.insertAll(
      workflow()
        .add('first', newJob(OutcomeWorker, { outcome: 'discard' }))
        .add('second', newJob(OutcomeWorker, { outcome: 'complete' }), { deps: ['first'] }),
    );
    const workflowId = first!.workflowId!;
    await finished(koban, workflowId);
    expect(await koban.retryJobs({ workflowId })).toBe(2);
    await waitFor('the retried dep to run', async () => (await koban.getJob(first!.id))?.attempt === 2);
    expect(statesOf(await finished(koban, workflowId))).toEqual({ first: 'discarded', second: 'cancelled' });
    const second = (await koban.listJobs({ workflowId })).find((job) => job.workflowStep === 'second');
    expect(second!.attempt).toBe(0);
  });

  it('retrying only a step whose dep completed runs it at once', async () => {
    const [first] = await koban.insertAll(
      workflow()
        .add('first', newJob(OutcomeWorker, { outcome: 'complete' }))
        .add('second', newJob(OutcomeWorker, { outcome: 'discard' }), { deps: ['first'] }),
    );
    const workflowId = first!.workflowId!;
    await finished(koban, workflowId);
    const second = (await koban.listJobs({ workflowId })).find((job) => job.workflowStep === 'second')!;
    await koban.pauseQueue('pipelines');
    try {
      expect(await koban.retryJob(second.id)).toBe(true);
      expect((await koban.getJob(second.id))!.state).toBe('available');
    } finally {
      await koban.resumeQueue('pipelines');
    }
    await waitFor('the step to run again', async () => (await koban.getJob(second.id))?.attempt === 2);
  });
});
