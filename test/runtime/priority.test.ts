import { beforeAll, describe, expect, it } from 'vitest';
import { defineWorker, type Job, type JobSpec, newJob } from '../../index.js';
import { freshDatabase } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';

const ran: string[] = [];

class OrderedWorker {
  async process(job: Job<{ label: string }>) {
    ran.push(job.args.label);
  }
}
defineWorker(OrderedWorker);

let url: string;
beforeAll(async () => {
  url = await freshDatabase();
});

/**
 * Inserts the jobs while no node runs their queue, then starts one node with a limit of 1 and
 * returns the order the jobs ran in.
 */
async function runOrder(queue: string, specs: readonly JobSpec[]): Promise<string[]> {
  const inserter = await startKoban({ database: url, queues: {} });
  for (const spec of specs) await inserter.insert(spec, { queue });
  ran.length = 0;
  const runner = await startKoban({ database: url, queues: { [queue]: 1 } });
  await waitFor(
    `all ${specs.length} jobs of ${queue} to complete`,
    async () => (await runner.listJobs({ queue, state: 'completed' })).length === specs.length,
  );
  return [...ran];
}

describe('priority', () => {
  it('runs lower priority numbers first, 0 before 9', async () => {
    const order = await runOrder(
      'prio',
      [5, 0, 9, 3, 1, 7].map((priority) => newJob(OrderedWorker, { label: `p${priority}` }, { priority })),
    );
    expect(order).toEqual(['p0', 'p1', 'p3', 'p5', 'p7', 'p9']);
  });

  it('runs jobs of equal priority by scheduled time, then by id', async () => {
    const now = Date.now();
    const at = (secondsAgo: number) => new Date(now - secondsAgo * 1000);
    const order = await runOrder('fifo', [
      newJob(OrderedWorker, { label: 'due-10s-ago' }, { scheduledAt: at(10) }),
      newJob(OrderedWorker, { label: 'due-30s-ago' }, { scheduledAt: at(30) }),
      newJob(OrderedWorker, { label: 'same-time-first' }, { scheduledAt: at(20) }),
      newJob(OrderedWorker, { label: 'same-time-second' }, { scheduledAt: at(20) }),
      newJob(OrderedWorker, { label: 'same-time-third' }, { scheduledAt: at(20) }),
      newJob(OrderedWorker, { label: 'urgent-but-newest' }, { scheduledAt: at(1), priority: 0 }),
      newJob(OrderedWorker, { label: 'low-but-oldest' }, { scheduledAt: at(60), priority: 2 }),
    ]);
    expect(order).toEqual([
      'due-30s-ago',
      'same-time-first',
      'same-time-second',
      'same-time-third',
      'due-10s-ago',
      'urgent-but-newest',
      'low-but-oldest',
    ]);
  });

  it('keeps priority order over many interleaved jobs', async () => {
    const specs = Array.from({ length: 30 }, (_, i) =>
      newJob(OrderedWorker, { label: `${i % 3}:${String(i).padStart(2, '0')}` }, { priority: i % 3 }),
    );
    const order = await runOrder('many', specs);
    const expected = specs
      .map((spec) => spec.args.label as string)
      .sort((a, b) => Number(a[0]) - Number(b[0]) || a.localeCompare(b));
    expect(order).toEqual(expected);
  });
});
