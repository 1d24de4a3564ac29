import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Koban, newJob, toMermaid, workflow } from '../../index.js';
import { waitFor } from '../support/wait.js';
import { backends, finished, startOn, statesOf } from './support.js';
import { OutcomeWorker, workflowQueues, workflowWorkers } from './workers.js';

const step = (outcome: 'complete' | 'discard' = 'complete', ms = 0) => newJob(OutcomeWorker, { outcome, ms });

describe('toMermaid', () => {
  it('draws steps, deps and sub-workflows of a built workflow', () => {
    const images = workflow()
      .add('fetch', step())
      .add('resize', step(), { deps: ['fetch'] });
    const flow = workflow()
      .add('extract', step())
      .addWorkflow('images', images, { deps: ['extract'] })
      .add('notify', step(), { deps: ['images'] });
    expect(toMermaid(flow)).toBe(
      [
        'flowchart TD',
        '  s0["extract"]',
        '  s3["notify"]',
        '  subgraph images["images"]',
        '    s1["fetch"]',
        '    s2["resize"]',
        '  end',
        '  s0 --> s1',
        '  s1 --> s2',
        '  s1 --> s3',
        '  s2 --> s3',
        '',
      ].join('\n'),
    );
  });
});

describe.each(backends)('workflow status and control on %s', (backend) => {
  let koban: Koban;

  beforeAll(async () => {
    koban = await startOn(backend, { queues: workflowQueues, workers: workflowWorkers });
  });

  it('runs a step that depends on a whole sub-workflow after all of its steps', async () => {
    const images = workflow()
      .add('fetch', step('complete', 50))
      .add('resize', step('complete', 50), { deps: ['fetch'] })
      .add('thumb', step('complete', 50), { deps: ['fetch'] });
    const flow = workflow()
      .add('extract', step())
      .addWorkflow('images', images, { deps: ['extract'] })
      .add('notify', step(), { deps: ['images'] });
    const [first] = await koban.insertAll(flow);
    const status = await finished(koban, first!.workflowId!);
    expect(status.steps.map((row) => [row.name, row.deps])).toEqual([
      ['extract', []],
      ['images.fetch', ['extract']],
      ['images.resize', ['images.fetch']],
      ['images.thumb', ['images.fetch']],
      ['notify', ['images.fetch', 'images.resize', 'images.thumb']],
    ]);
    const jobs = await koban.listJobs({ workflowId: first!.workflowId! });
    const notify = jobs.find((job) => job.workflowStep === 'notify')!;
    for (const part of jobs.filter((job) => job.workflowStep!.startsWith('images.'))) {
      expect(notify.attemptedAt!.getTime()).toBeGreaterThanOrEqual(part.completedAt!.getTime());
    }
  });

  it('reports counts per state and each step, and draws them', async () => {
    const [first] = await koban.insertAll(
      workflow({ workflowName: 'report' })
        .add('ok', step())
        .add('bad', step('discard'))
        .add('after_bad', step(), { deps: ['bad'] }),
    );
    const status = await finished(koban, first!.workflowId!);
    expect(status).toMatchObject({
      name: 'report',
      state: 'failed',
      counts: { completed: 1, discarded: 1, cancelled: 1, held: 0, available: 0 },
    });
    const drawing = toMermaid(status);
    expect(drawing).toContain('s0["ok<br/><i>completed</i>"]');
    expect(drawing).toContain('s2["after_bad<br/><i>cancelled</i>"]');
    expect(drawing).toContain('s1 --> s2');
    expect(drawing).toMatch(/class s0 completed/);
    expect(await koban.workflowStatus('0190e1b4-0000-7000-8000-00000000abcd')).toBeNull();
  });

  it('cancels the steps that have not finished, and only those', async () => {
    const [first] = await koban.insertAll(
      workflow()
        .add('quick', step())
        .add('slow', step('complete', 60_000))
        .add('waiting', step(), { deps: ['slow'] }),
    );
    const id = first!.workflowId!;
    await waitFor('the slow step to start', async () => {
      const status = await koban.workflowStatus(id);
      return statesOf(status!).slow === 'executing' && statesOf(status!).quick === 'completed';
    });
    expect(await koban.cancelWorkflow(id)).toBe(2);
    const status = await finished(koban, id);
    expect(statesOf(status)).toEqual({ quick: 'completed', slow: 'cancelled', waiting: 'cancelled' });
  });

  describe('the sweeper', () => {
    /** A workflow whose first step is made to finish by hand, behind the engine's back. */
    async function lostRelease(
      finish: string,
      flags: { ignoreDeleted?: boolean; waitingLimit?: number } = {},
    ) {
      await koban.pauseQueue('pipelines');
      const [first] = await koban.insertAll(
        workflow({ waitingDelay: 100, ...flags })
          .add('first', step())
          .add('second', step(), { deps: ['first'] }),
      );
      await koban.db.execute(sql.raw(finish.replace('$id', first!.id)));
      await koban.resumeQueue('pipelines');
      return first!.workflowId!;
    }

    it('releases a step whose release was lost', async () => {
      const id = await lostRelease(
        `UPDATE koban.jobs SET state = 'completed', completed_at = now() WHERE id = $id`,
      );
      expect(statesOf(await finished(koban, id))).toEqual({ first: 'completed', second: 'completed' });
    });

    it('cancels a step whose dep failed behind its back, saying so', async () => {
      const id = await lostRelease(
        `UPDATE koban.jobs SET state = 'discarded', discarded_at = now() WHERE id = $id`,
      );
      const status = await finished(koban, id);
      expect(statesOf(status)).toEqual({ first: 'discarded', second: 'cancelled' });
      const [second] = await koban.listJobs({ workflowId: id, state: 'cancelled' });
      expect(second!.errors.at(-1)?.error).toMatch(
        /workflow dep "first" \(job \d+\) was discarded; found by the workflow sweeper/,
      );
    });

    it('cancels a step whose dep was deleted, after waitingLimit checks; ignoreDeleted releases it', async () => {
      const started = Date.now();
      const strict = await lostRelease(`DELETE FROM koban.jobs WHERE id = $id`, { waitingLimit: 3 });
      const status = await finished(koban, strict);
      // Three checks of 100 ms each after the first wait.
      expect(Date.now() - started).toBeGreaterThanOrEqual(400);
      expect(statesOf(status)).toEqual({ second: 'cancelled' });
      const [second] = await koban.listJobs({ workflowId: strict });
      expect(second!.errors.at(-1)?.error).toContain(
        'workflow dep "first" was deleted before it finished, and 3 checks later it is still gone',
      );
      const lenient = await lostRelease(`DELETE FROM koban.jobs WHERE id = $id`, { ignoreDeleted: true });
      expect(statesOf(await finished(koban, lenient))).toEqual({ second: 'completed' });
    });
  });
});
