import { describe, expect, it } from 'vitest';
import {
  defineWorker,
  type Job,
  Koban,
  KobanConfigError,
  type NewJob,
  type NewJobOfWorker,
  newJob,
  workflow,
} from '../../index.js';
import { freshDatabase } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { quietLogger } from '../support/wait.js';
import { rawJobs } from './support.js';

// Koban.start({ beforeNew }) runs before every job the instance inserts, whatever its worker:
// it may change args and options, or refuse the job and with it the insert. The worker's own
// static beforeNew runs after it, on what it made of the job.

class Invoice {
  async process(_job: Job<{ customer: string }>) {}
}
defineWorker(Invoice, { queue: 'billing' });

class Receipt {
  static seen: NewJob[] = [];
  static beforeNew(job: NewJob<{ order: number }>) {
    Receipt.seen.push(job);
    return { args: job.args, options: { ...job.options, priority: 3 } };
  }
  async process(_job: Job<{ order: number }>) {}
}
defineWorker(Receipt, { queue: 'billing' });

const seenByNode: NewJobOfWorker[] = [];
function stamp(job: NewJobOfWorker): NewJob | undefined {
  seenByNode.push(job);
  if (job.worker === 'Invoice' && (job.args as { customer: string }).customer === 'blocked')
    throw new Error('customer is blocked');
  const args =
    job.worker === 'Invoice'
      ? { customer: String((job.args as { customer: string }).customer).trim() }
      : job.args;
  return {
    args,
    options: { ...job.options, tags: [...(job.options.tags ?? []), 'stamped'], meta: { tenant: 't1' } },
  };
}

describe('a node-wide beforeNew', () => {
  it('changes every job it inserts, before the worker’s own hook', async () => {
    const url = await freshDatabase();
    const koban = await startKoban({
      database: url,
      testing: 'manual',
      beforeNew: stamp,
      workers: [Invoice, Receipt],
    });
    await koban.insert(newJob(Invoice, { customer: '  acme ' }), { tags: ['given'] });
    await koban.insertAll([newJob(Receipt, { order: 7 })]);
    await koban.insertAll(workflow().add('bill', newJob(Invoice, { customer: 'wf' })));
    const invoices = await rawJobs(url, 'Invoice');
    expect(invoices.map((job) => [job.args, job.tags, job.meta])).toEqual([
      [{ customer: 'acme' }, ['given', 'stamped'], { tenant: 't1' }],
      [{ customer: 'wf' }, ['stamped'], { tenant: 't1' }],
    ]);
    const [receipt] = await rawJobs(url, 'Receipt');
    expect(receipt).toMatchObject({ tags: ['stamped'], meta: { tenant: 't1' }, priority: 3 });
    // The worker's hook saw the node's changes.
    expect(Receipt.seen.at(-1)!.options.tags).toEqual(['stamped']);
    expect(seenByNode.map((job) => job.worker)).toEqual(['Invoice', 'Receipt', 'Invoice']);
  });

  it('refuses a whole insert when it throws for one job', async () => {
    const url = await freshDatabase();
    const koban = await startKoban({
      database: url,
      testing: 'manual',
      beforeNew: stamp,
      workers: [Invoice],
    });
    await expect(
      koban.insertAll([newJob(Invoice, { customer: 'fine' }), newJob(Invoice, { customer: 'blocked' })]),
    ).rejects.toThrow('customer is blocked');
    expect(await rawJobs(url, 'Invoice')).toEqual([]);
  });

  it('must be a function', async () => {
    await expect(
      Koban.start({ logger: quietLogger, testing: 'manual', beforeNew: 'stamp' as never }),
    ).rejects.toThrow(
      new KobanConfigError(
        'beforeNew: expected a function ({ worker, args, options }) => job or nothing, got string',
      ),
    );
  });
});
