import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  batch,
  defineWorker,
  type Job,
  Koban,
  KobanDatabaseError,
  type KobanOps,
  KobanValidationError,
  newJob,
  workflow,
} from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';

// The operator's client: it reads the whole cluster from the database, whichever process asks,
// and never joins the cluster itself.

class OpsMailer {
  async process(_job: Job<{ to: string; n: number }>) {}
}
defineWorker(OpsMailer, { queue: 'mailers' });

class OpsReport {
  async process(_job: Job<{ day: string }>) {}
}
defineWorker(OpsReport, { queue: 'reports' });

class OpsDigest {
  async process(_job: Job<{ to: string }>) {}
  async handleCompleted(_job: Job<{ to: string }>) {}
  async handleExhausted(_job: Job<{ to: string }>) {}
}
defineWorker(OpsDigest, { queue: 'mailers' });

let gate: Promise<void> = Promise.resolve();
let open: () => void = () => {};
class OpsSlow {
  async process(_job: Job<{ n: number }>) {
    await gate;
  }
}
defineWorker(OpsSlow, { queue: 'slow' });

const timers = { heartbeatInterval: 200, rescueAfter: 2000, blockTolerance: 1000 };

let url: string;
let ops: KobanOps | undefined;
beforeEach(async () => {
  url = await freshDatabase();
});
afterEach(async () => {
  open();
  await ops?.close();
  ops = undefined;
});

async function connect(options: { statementTimeout?: number } = {}) {
  ops = await Koban.connect({ database: url, ...options });
  return ops;
}

/** A client with no node and no queues, to insert jobs only. */
const inserter = () => startKoban({ database: url, workers: [OpsMailer, OpsReport, OpsSlow, OpsDigest] });

describe('Koban.connect', () => {
  it('never runs jobs, never heartbeats and never leads', async () => {
    const client = await inserter();
    await client.insertAll([newJob(OpsMailer, { to: 'a@x', n: 1 }), newJob(OpsMailer, { to: 'b@x', n: 2 })]);
    const reader = await connect();
    await reader.queues();
    await reader.searchJobs({});
    await new Promise((resolve) => setTimeout(resolve, 600));
    const seen = await withSql(url, async (sql) => ({
      nodes: (await sql`SELECT name FROM koban.nodes`).length,
      leaders: (await sql`SELECT node FROM koban.leaders`).length,
      available: (await sql`SELECT id FROM koban.jobs WHERE state = 'available'`).length,
    }));
    // The inserting node runs no queues but heartbeats; the ops client adds no row of its own.
    expect(seen).toEqual({ nodes: 1, leaders: 1, available: 2 });
    expect((await reader.nodes()).nodes.map((node) => node.name)).toEqual([client.node]);
  });

  it('refuses a schema that is not current, saying how to fix it', async () => {
    const empty = await freshDatabase({ migrated: false });
    await expect(Koban.connect({ database: empty })).rejects.toThrow(
      /version 0, this Koban needs \d+: run koban.migrate/,
    );
  });
});

describe('cluster-wide reads', () => {
  it('counts per queue and state, the oldest available job, and the nodes that run each queue', async () => {
    const client = await inserter();
    const due = new Date(Date.now() - 30_000);
    await client.insertAll([
      newJob(OpsMailer, { to: 'a@x', n: 1 }, { scheduledAt: due }),
      newJob(OpsMailer, { to: 'b@x', n: 2 }),
      newJob(OpsMailer, { to: 'c@x', n: 3 }, { scheduleIn: 3600 }),
      newJob(OpsReport, { day: 'mon' }),
    ]);
    const worker = await startKoban({
      database: url,
      workers: [OpsReport],
      queues: { reports: 3 },
      ...timers,
    });
    await waitFor(
      'the report to complete',
      async () => (await worker.listJobs({ state: 'completed' })).length === 1,
    );
    const reader = await connect();
    const queues = await waitFor('the node to report its queue', async () => {
      const found = await reader.queues();
      return found.find((queue) => queue.name === 'reports')?.nodes.length ? found : undefined;
    });
    const mailers = queues.find((queue) => queue.name === 'mailers')!;
    expect(mailers.counts).toMatchObject({ available: 2, scheduled: 1, completed: 0 });
    expect(mailers.oldestAvailableAgeMs).toBeGreaterThanOrEqual(29_000);
    expect(mailers.nodes).toEqual([]);
    const reports = queues.find((queue) => queue.name === 'reports')!;
    expect(reports.counts).toMatchObject({ completed: 1, available: 0 });
    expect(reports.oldestAvailableAgeMs).toBeNull();
    expect(reports.nodes).toEqual([{ node: worker.node, limit: 3, paused: false, running: 0 }]);

    await reader.pauseQueue('reports');
    await reader.scaleQueue('reports', 7);
    await waitFor('the pause and scale to reach the node', async () => {
      const found = (await reader.queues()).find((queue) => queue.name === 'reports')!;
      return found.paused && found.limit === 7 && found.nodes[0]?.limit === 7;
    });
    expect(worker.queues()).toMatchObject([{ queue: 'reports', limit: 7, running: 0, paused: true }]);

    const { nodes, leader } = await reader.nodes();
    expect(leader).not.toBeNull();
    const named = nodes.find((node) => node.name === worker.node)!;
    expect(named).toMatchObject({ alive: true, queues: [{ queue: 'reports', limit: 7, paused: true }] });
    expect(nodes.filter((node) => node.leader).map((node) => node.name)).toEqual([leader]);
  });

  it('lists cron entries with their last job and next tick', async () => {
    const worker = await startKoban({
      database: url,
      workers: [OpsReport],
      queues: { reports: 2 },
      cron: [{ expression: '* * * * * *', worker: OpsReport, args: { day: 'tick' }, name: 'every-second' }],
      ...timers,
    });
    const reader = await connect();
    const [entry] = await waitFor('a tick to run', async () => {
      const crons = await reader.crons();
      return crons[0]?.lastRun?.state === 'completed' ? crons : undefined;
    });
    expect(entry).toMatchObject({
      name: 'every-second',
      expression: '* * * * * *',
      worker: 'OpsReport',
      nodes: [worker.node],
    });
    expect(entry!.nextRunAt!.getTime()).toBeGreaterThan(Date.now() - 1000);
    expect(entry!.nextRunAt!.getTime()).toBeLessThan(Date.now() + 2000);
  });

  it("runs, pauses and resumes an entry of a node's configuration, on the nodes that have it", async () => {
    const worker = await startKoban({
      database: url,
      workers: [OpsReport],
      queues: { reports: 2 },
      cron: [{ expression: '* * * * * *', worker: OpsReport, args: { day: 'tick' }, name: 'every-second' }],
      ...timers,
    });
    const reader = await connect();
    const ticks = async () =>
      (await worker.listJobs({ worker: 'OpsReport', limit: 1000 })).filter(
        (job) => job.meta.cron === 'every-second' && job.meta.cronTick !== 'manual',
      ).length;
    await waitFor('the node to report its entry', async () => (await reader.crons()).length === 1);
    await waitFor('a first tick', async () => (await ticks()) > 0);

    await reader.pauseCron('every-second');
    expect((await reader.crons())[0]).toMatchObject({ source: 'config', paused: true, nextRunAt: null });
    // A tick being inserted as the pause lands may still commit: count after it settles.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = await ticks();
    await new Promise((resolve) => setTimeout(resolve, 2200));
    expect(await ticks()).toBe(before);

    // Run now works while paused: the node inserts the job, once, and the client gets it.
    const job = await reader.runCron('every-second');
    expect(job).toMatchObject({
      worker: 'OpsReport',
      args: { day: 'tick' },
      meta: { cron: 'every-second', cronTick: 'manual' },
    });
    const manual = (await worker.listJobs({ worker: 'OpsReport', limit: 1000 })).filter(
      (found) => found.meta.cronTick === 'manual',
    );
    expect(manual.map((found) => found.id)).toEqual([job.id]);

    await reader.resumeCron('every-second');
    expect((await reader.crons())[0]!.paused).toBe(false);
    await waitFor('a tick after resume', async () => (await ticks()) > before);

    await expect(reader.pauseCron('nothing')).rejects.toThrow(
      /pauseCron\("nothing"\): no cron entry of that name, stored or on a live node/,
    );
    await expect(reader.runCron('nothing')).rejects.toThrow(KobanValidationError);
  });

  it('lists workflows and batches with their counts', async () => {
    const client = await inserter();
    const steps = await client.insertAll(
      workflow()
        .add('a', newJob(OpsReport, { day: 'a' }))
        .add('b', newJob(OpsReport, { day: 'b' }), { deps: ['a'] }),
    );
    await client.insertAll(batch([newJob(OpsDigest, { to: 'x' })]));
    const reader = await connect();
    const [flow] = await reader.workflows();
    expect(flow).toMatchObject({ id: steps[0]!.workflowId, counts: { available: 1, held: 1 } });
    expect(
      (await reader.workflow(flow!.id))!.steps.map((step) => [step.name, step.state, step.deps]),
    ).toEqual([
      ['a', 'available', []],
      ['b', 'held', ['a']],
    ]);
    const [group] = await reader.batches();
    expect(group).toMatchObject({ total: 1, completed: 0, callbacks: ['completed', 'exhausted'], fired: [] });
    expect((await reader.batch(group!.id))!.total).toBe(1);
  });
});

describe('the job search', () => {
  it('filters by every field and pages through finished and unfinished jobs alike', async () => {
    const client = await inserter();
    const mails = await client.insertAll(
      Array.from({ length: 120 }, (_, n) =>
        newJob(
          OpsMailer,
          { to: n % 2 ? `odd${n}@x` : `even${n}@x`, n },
          { tags: n % 3 ? ['bulk'] : ['bulk', 'vip'] },
        ),
      ),
    );
    const [report] = await client.insertAll([
      newJob(OpsReport, { day: 'fri' }, { meta: { team: 'Finance' } }),
    ]);
    // Some finished jobs, in the history.
    await client.cancelJobs(mails.slice(0, 10).map((job) => job.id));
    const reader = await connect();

    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<KobanOps['searchJobs']>> = await reader.searchJobs(
        {},
        { limit: 50, cursor },
      );
      pages.push(page.jobs.map((job) => job.id));
      cursor = page.next;
    } while (cursor);
    expect(pages.map((page) => page.length)).toEqual([50, 50, 21]);
    const all = pages.flat();
    expect(new Set(all).size).toBe(121);
    expect(all).toEqual([...all].sort((a, b) => Number(b) - Number(a)));

    const ids = (search: Parameters<KobanOps['searchJobs']>[0]) =>
      reader.searchJobs(search, { limit: 1000 }).then((page) => page.jobs.map((job) => job.id).sort());
    expect(await ids({ state: 'cancelled' })).toEqual(
      mails
        .slice(0, 10)
        .map((job) => job.id)
        .sort(),
    );
    expect((await ids({ state: ['cancelled', 'available'], queue: 'mailers' })).length).toBe(120);
    expect(await ids({ worker: 'OpsReport' })).toEqual([report!.id]);
    expect(await ids({ queue: ['reports'] })).toEqual([report!.id]);
    expect((await ids({ tags: ['bulk', 'vip'] })).length).toBe(40);
    expect(await ids({ ids: [mails[5]!.id, report!.id] })).toEqual([mails[5]!.id, report!.id].sort());
    expect(await ids({ args: 'ODD7@' })).toEqual([mails[7]!.id]);
    expect(await ids({ args: '"n": 42' })).toEqual([mails[42]!.id]);
    expect(await ids({ meta: 'finance' })).toEqual([report!.id]);
    expect(await ids({ args: '100%' })).toEqual([]); // a wildcard in the text is literal
    const future = new Date(Date.now() + 60_000);
    expect(await ids({ inserted: { from: future } })).toEqual([]);
    expect(
      (await ids({ inserted: { to: future }, finished: { from: new Date(Date.now() - 60_000) } })).length,
    ).toBe(10);
    expect(await reader.countJobs({ queue: 'mailers', state: 'available' })).toBe(110);
  });

  it('says what is wrong with a search and where', async () => {
    const reader = await connect();
    const fails = (search: unknown, page?: unknown) =>
      reader.searchJobs(search as never, page as never).then(
        () => 'no error',
        (error: Error) =>
          error instanceof KobanValidationError ? error.message : `${error.name}: ${error.message}`,
      );
    expect(await fails({ state: ['available', 'done'] })).toMatch(
      /search\.state\[1\]: unknown state "done"; expected one of/,
    );
    expect(await fails({ colour: 'red' })).toMatch(/search\.colour: unknown filter/);
    expect(await fails({ ids: ['1', 'x'] })).toMatch(/search\.ids\[1\]: expected a job id/);
    expect(await fails({ inserted: { from: 'yesterday' } })).toMatch(
      /search\.inserted\.from: expected a time/,
    );
    expect(await fails({ args: '' })).toMatch(/search\.args: expected text of 1 to 200 characters/);
    expect(await fails({}, { cursor: 'nope' })).toMatch(/searchJobs\.cursor: expected the next cursor/);
    expect(await fails({}, { limit: 5000 })).toMatch(/searchJobs\.limit: expected an integer from 1 to 1000/);
  });

  it('stops a search that runs past the statement timeout; a text search reads a window of ids a page', async () => {
    await withSql(url, async (sql) => {
      await sql.unsafe(`
        INSERT INTO koban.job_history (id, state, queue, worker, args, meta, tags, errors, attempt, max_attempts,
          priority, inserted_at, scheduled_at, attempted_by, completed_at, finished_at)
        SELECT n, 'completed', 'bulk', 'OpsMailer', jsonb_build_object('to', 'user' || n || '@example.com', 'n', n), '{}', '{}', '{}',
          1, 20, 0, now(), now(), '{}', now(), now()
        FROM generate_series(1000000, 1300000) n`);
    });
    const reader = await Koban.connect({ database: url, statementTimeout: 20 });
    await expect(reader.searchJobs({ args: 'no such text anywhere' })).rejects.toThrow(KobanDatabaseError);
    await expect(reader.searchJobs({ args: 'no such text anywhere' })).rejects.toThrow(
      /took longer than 20 ms and was stopped; narrow it/,
    );
    await reader.close();
    // With its default bound, a text search reads a window of ids per page and says where it
    // stopped: the next page searches on below, and the last says nothing is left.
    const client = await connect();
    const windows: (string | null)[] = [];
    const found: string[] = [];
    let cursor: string | null | undefined;
    do {
      const page = await client.searchJobs({ args: 'user1000005@' }, { cursor });
      found.push(...page.jobs.map((job) => job.id));
      windows.push(page.searched && `${page.searched.fromId}-${page.searched.toId}`);
      cursor = page.next;
    } while (cursor);
    expect(found).toEqual(['1000005']);
    expect(windows).toEqual(['1300000-1200001', '1200000-1100001', '1100000-1000001', null]);
    const common = await client.searchJobs({ args: '@example.com' }, { limit: 5 });
    expect(common.jobs.map((job) => job.id)).toEqual(['1300000', '1299999', '1299998', '1299997', '1299996']);
    expect(common.searched).toBeNull();
    // Other filters page through it (bench/ measures how fast).
    const page = await client.searchJobs({ queue: 'bulk' }, { limit: 10 });
    expect(page.jobs.map((job) => job.id)).toEqual(Array.from({ length: 10 }, (_, n) => String(1300000 - n)));
    // A history that large is counted on a sample for the overview, and says so.
    await withSql(url, (sql) => sql`ANALYZE koban.job_history`);
    const [bulk] = (await ops!.queues()).filter((queue) => queue.name === 'bulk');
    expect(bulk!.estimated).toBe(true);
    expect(bulk!.counts.completed).toBeGreaterThan(300_001 * 0.7);
    expect(bulk!.counts.completed).toBeLessThan(300_001 * 1.3);
  });
});

describe('bulk actions', () => {
  it('counts first, then cancels everything a filter matches in batches, keeping the reason', async () => {
    const client = await inserter();
    await client.insertAll(Array.from({ length: 35 }, (_, n) => newJob(OpsMailer, { to: `u${n}`, n })));
    await client.insertAll([newJob(OpsReport, { day: 'sat' })]);
    const reader = await connect();
    const dry = await reader.cancelJobs({ filter: { queue: 'mailers' } }, { dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, total: 35, changed: 0 });
    expect(await reader.countJobs({ state: 'cancelled' })).toBe(0);

    const progress: number[] = [];
    const done = await reader.cancelJobs(
      { filter: { queue: 'mailers' } },
      { reason: 'mailer outage', batchSize: 10, onProgress: (step) => progress.push(step.done) },
    );
    expect(done).toMatchObject({ dryRun: false, total: 35, done: 35, changed: 35 });
    expect(progress).toEqual([10, 20, 30, 35]);
    const cancelled = await reader.searchJobs({ state: 'cancelled' }, { limit: 100 });
    expect(cancelled.jobs).toHaveLength(35);
    expect(cancelled.jobs[0]!.errors.at(-1)).toMatchObject({ attempt: 0, error: 'cancelled: mailer outage' });
    expect(await reader.countJobs({ queue: 'reports', state: 'available' })).toBe(1);

    // Nothing left to cancel: the count says so, and retry brings them back.
    expect((await reader.cancelJobs({ filter: { queue: 'mailers' } }, { dryRun: true })).total).toBe(0);
    expect(await reader.retryJobs({ filter: { queue: 'mailers', args: 'u3' } })).toMatchObject({
      changed: 6,
    });
    expect(await reader.countJobs({ queue: 'mailers', state: 'available' })).toBe(6);
    const [first] = (await reader.searchJobs({ queue: 'mailers', state: 'available' }, { limit: 1 })).jobs;
    expect(await reader.deleteJobs([first!.id])).toMatchObject({ changed: 1 });
    expect(await reader.job(first!.id)).toBeNull();
  });

  it('refuses an empty filter and bad options, and changes nothing', async () => {
    const client = await inserter();
    await client.insertAll([newJob(OpsMailer, { to: 'a', n: 1 })]);
    const reader = await connect();
    await expect(reader.deleteJobs({ filter: {} })).rejects.toThrow(
      /deleteJobs\.filter: an empty filter would select every job/,
    );
    await expect(reader.cancelJobs({ filter: { queue: 'mailers' } }, { batchSize: 0 })).rejects.toThrow(
      /cancelJobs\.batchSize: expected an integer/,
    );
    await expect(reader.retryJobs({ filter: { state: 'finished' as never } })).rejects.toThrow(
      /unknown state "finished"/,
    );
    expect(await reader.countJobs({ state: 'available' })).toBe(1);
  });

  it('cancels a whole filter while a node runs the same queue: every job ends once, none is lost', async () => {
    gate = new Promise((resolve) => {
      open = resolve;
    });
    const client = await inserter();
    await client.insertAll(Array.from({ length: 400 }, (_, n) => newJob(OpsSlow, { n })));
    const worker = await startKoban({ database: url, workers: [OpsSlow], queues: { slow: 20 }, ...timers });
    await waitFor('jobs to run', async () => (await worker.listJobs({ state: 'executing' })).length > 0);
    const reader = await connect();
    const cancelling = reader.cancelJobs({ filter: { queue: 'slow' } }, { batchSize: 25, reason: 'drain' });
    setTimeout(open, 50);
    const result = await cancelling;
    await waitFor(
      'every job to finish',
      async () => (await reader.countJobs({ queue: 'slow', state: ['executing', 'available'] })) === 0,
    );
    const counts = await withSql(
      url,
      (sql) => sql<{ state: string; n: number }[]>`
      SELECT state, count(*)::int AS n FROM koban.all_jobs WHERE queue = 'slow' GROUP BY state`,
    );
    const byState = Object.fromEntries(counts.map((row) => [row.state, row.n]));
    expect((byState.completed ?? 0) + (byState.cancelled ?? 0)).toBe(400);
    expect(byState.cancelled).toBe(result.changed);
    expect(result.changed).toBeGreaterThan(0);
    const dupes = await withSql(
      url,
      (sql) => sql`SELECT id FROM koban.all_jobs GROUP BY id HAVING count(*) > 1`,
    );
    expect(dupes).toEqual([]);
  });
});
