import { and, desc, eq } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allJobs, defineWorker, type Job, jobs, type Koban, kobanTables, newJob } from '../../index.js';
import { freshDatabase } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';

class TenantWorker {
  async process(job: Job<{ label: string; fail?: boolean }>) {
    if (job.args.fail) throw new Error(`failing ${job.args.label}`);
    return job.args.label;
  }
}
defineWorker(TenantWorker, { queue: 'shared', maxAttempts: 2 });

const tenant = kobanTables('tenant_a');

let url: string;
let sql: postgres.Sql;
let main: Koban;
let other: Koban;

beforeAll(async () => {
  url = await freshDatabase();
  sql = postgres(url, { max: 2, onnotice: () => {} });
});

afterAll(async () => {
  await sql?.end();
});

/** Both nodes only poll once a minute: anything quicker came through their own NOTIFY channel. */
async function startBoth() {
  const timers = { pollInterval: 60_000, stageInterval: 60_000 };
  main = await startKoban({ database: url, queues: { shared: 2 }, node: 'main-node', ...timers });
  other = await startKoban({
    database: url,
    schema: 'tenant_a',
    queues: { shared: 2 },
    node: 'tenant-node',
    ...timers,
  });
  // Let the fetch each producer makes at start find nothing, so both are idle.
  await new Promise((resolve) => setTimeout(resolve, 300));
}

async function completed(koban: Koban, id: string) {
  return waitFor(`job ${id} in ${koban.schema} to complete`, async () => {
    const job = await koban.getJob(id);
    return job?.state === 'completed' ? job : null;
  });
}

describe('a custom schema beside the default one', () => {
  it('keeps jobs apart: each node sees and runs only its own schema', async () => {
    await startBoth();
    expect(other.schema).toBe('tenant_a');
    const inTenant = await other.insert(newJob(TenantWorker, { label: 'tenant job' }));
    const inMain = await main.insert(newJob(TenantWorker, { label: 'main job' }));

    expect((await completed(other, inTenant.id)).attemptedBy).toEqual(['tenant-node']);
    expect((await completed(main, inMain.id)).attemptedBy).toEqual(['main-node']);
    // Ids come from separate sequences, so the same id may name a different job in each schema.
    expect((await main.listJobs()).map((job) => job.args)).toEqual([{ label: 'main job' }]);
    expect((await other.listJobs()).map((job) => job.args)).toEqual([{ label: 'tenant job' }]);

    const [{ n }] = (await sql`SELECT count(*)::int AS n FROM tenant_a.all_jobs`) as unknown as [
      { n: number },
    ];
    expect(n).toBe(1);
  });

  it('keeps notifications apart: an insert notifies only its own schema', async () => {
    const heard: string[] = [];
    const listeners = await Promise.all(
      ['koban_insert', 'tenant_a_insert'].map((channel) =>
        sql.listen(channel, (queue) => heard.push(`${channel}:${queue}`)),
      ),
    );
    await startBoth();
    const job = await other.insert(newJob(TenantWorker, { label: 'notify' }));
    await completed(other, job.id);
    await waitFor('the tenant notification', () => heard.includes('tenant_a_insert:shared'));
    expect(heard.filter((entry) => entry.startsWith('koban_insert'))).toEqual([]);
    await Promise.all(listeners.map((listener) => listener.unlisten()));
  });

  it('keeps queue control apart: pausing a tenant queue leaves the default queue running', async () => {
    await startBoth();
    await other.pauseQueue('shared');
    await waitFor('the tenant queue to pause', () => other.queues()[0]?.paused);
    const job = await main.insert(newJob(TenantWorker, { label: 'still runs' }));
    await completed(main, job.id);
    expect(main.queues()[0]?.paused).toBe(false);
    const waiting = await other.insert(newJob(TenantWorker, { label: 'waits' }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await other.getJob(waiting.id))?.state).toBe('available');
    await other.resumeQueue('shared');
    await completed(other, waiting.id);
  });
});

describe('the exported Drizzle tables', () => {
  it('query jobs of the default schema with the query builder', async () => {
    await startBoth();
    const failing = await main.insert(newJob(TenantWorker, { label: 'drizzle-fail', fail: true }));
    const done = await main.insert(newJob(TenantWorker, { label: 'drizzle' }), {
      tags: ['t1'],
      meta: { m: 1 },
    });
    await completed(main, done.id);
    await waitFor(
      'the failing job to be retryable',
      async () => (await main.getJob(failing.id))?.state === 'retryable',
    );

    // A completed job has left the hot table for the history: the view reads both.
    const hot = await main.db
      .select()
      .from(jobs)
      .where(eq(jobs.id, BigInt(done.id)));
    expect(hot).toEqual([]);
    const rows = await main.db
      .select()
      .from(allJobs)
      .where(eq(allJobs.state, 'completed'))
      .orderBy(desc(allJobs.id));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((row) => row.state === 'completed')).toBe(true);
    const [row] = rows;
    expect(row).toMatchObject({
      id: BigInt(done.id),
      worker: 'TenantWorker',
      queue: 'shared',
      args: { label: 'drizzle' },
      meta: { m: 1 },
      tags: ['t1'],
      attempt: 1,
      maxAttempts: 2,
      attemptedBy: ['main-node'],
    });
    expect(row!.completedAt).toBeInstanceOf(Date);
    expect(main.tables.jobs).toBeDefined();

    const [retryable] = await main.db
      .select()
      .from(main.tables.jobs)
      .where(eq(main.tables.jobs.id, BigInt(failing.id)));
    expect(retryable?.state).toBe('retryable');
    // errors is jsonb[]: each entry should come back as the JobError object the type promises.
    expect(retryable?.errors).toHaveLength(1);
    expect(retryable?.errors[0]).toMatchObject({ attempt: 1, error: 'Error: failing drizzle-fail' });
  });

  it("query a custom schema's jobs through kobanTables(name)", async () => {
    await startBoth();
    const job = await other.insert(newJob(TenantWorker, { label: 'tenant drizzle' }));
    await completed(other, job.id);
    const rows = await other.db
      .select({ id: tenant.allJobs.id, args: tenant.allJobs.args })
      .from(tenant.allJobs)
      .where(and(eq(tenant.allJobs.state, 'completed'), eq(tenant.allJobs.worker, 'TenantWorker')));
    expect(rows).toContainEqual({ id: BigInt(job.id), args: { label: 'tenant drizzle' } });
    const fromDefault = await other.db.select({ args: allJobs.args }).from(allJobs);
    expect(fromDefault).not.toContainEqual({ args: { label: 'tenant drizzle' } });
  });
});
