import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BatchCallbacks, batch, defineWorker, type Job, newJob, workflow } from '../../index.js';
import { compilePackage } from '../support/compiled.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';

// The `koban` bin, compiled as package.json declares it and run under plain node against a
// real database: tables for people, --json for scripts, exit codes, progress on stderr.

class CliMailer {
  async process(_job: Job<{ to: string }>) {}
}
defineWorker(CliMailer, { queue: 'mailers' });

/** Fails when asked to: one attempt, then discarded. */
class CliReport {
  async process(job: Job<{ fail: boolean }>) {
    if (job.args.fail) throw new Error('no data');
  }
}
defineWorker(CliReport, { queue: 'reports', maxAttempts: 1 });

/** A batch's worker with two callbacks: `completed` fires when all complete, `exhausted` never here. */
class CliBatchMailer implements BatchCallbacks<{ to: string }> {
  async process(_job: Job<{ to: string }>) {}
  async handleCompleted(_job: Job<{ to: string }>) {}
  async handleExhausted(_job: Job<{ to: string }>) {}
}
defineWorker(CliBatchMailer, { queue: 'batch-mailers' });

let outDir: string;
let url: string;
beforeAll(async () => {
  outDir = compilePackage('koban-cli-test');
  url = await freshDatabase();
}, 300_000);
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

function koban(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [join(outDir, 'cli', 'bin.js'), ...args], {
      env: { ...process.env, DATABASE_URL: url, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the koban bin', () => {
  it('lists, shows, cancels over a filter with a dry run first, and retries', async () => {
    const client = await startKoban({ database: url, workers: [CliMailer] });
    const jobs = await client.insertAll(
      Array.from({ length: 30 }, (_, n) => newJob(CliMailer, { to: `user${n}@x` })),
    );

    const listed = await koban(['jobs', '--queue', 'mailers', '--limit', '5']);
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n')[0]).toMatch(/^ID\s+STATE\s+QUEUE\s+WORKER/);
    expect(listed.stdout).toContain(`${jobs[29]!.id}  available  mailers  CliMailer`);
    expect(listed.stdout).toMatch(/more: koban jobs … --cursor j\w+/);

    const found = JSON.parse((await koban(['jobs', '--search', 'user7@', '--json'])).stdout);
    expect(found.jobs.map((job: { id: string }) => job.id)).toEqual([jobs[7]!.id]);

    const shown = await koban(['job', jobs[3]!.id]);
    expect(shown.stdout).toContain(`job ${jobs[3]!.id}  CliMailer  available`);
    expect(shown.stdout).toContain('args {"to":"user3@x"}');

    const dry = await koban(['cancel', '--filter', 'queue=mailers', '--dry-run']);
    expect(dry).toMatchObject({
      code: 0,
      stdout: 'cancel would touch 30 job(s); nothing changed (--dry-run)\n',
    });
    const cancelled = await koban([
      'cancel',
      '--filter',
      'queue=mailers',
      '--reason',
      'bad template',
      '--batch-size',
      '10',
    ]);
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toBe('cancel: 30 of 30 job(s) changed\n');
    expect(cancelled.stderr.trim().split('\n')).toEqual([
      'cancel: 10/30 (33%)',
      'cancel: 20/30 (66%)',
      'cancel: 30/30 (100%)',
    ]);
    const errors = await withSql(
      url,
      (sql) => sql`SELECT errors[1]->>'error' AS error FROM koban.all_jobs WHERE id = ${jobs[0]!.id}`,
    );
    expect(errors[0]!.error).toBe('cancelled: bad template');

    const retried = JSON.parse((await koban(['retry', jobs[0]!.id, jobs[1]!.id, '--json'])).stdout);
    expect(retried).toMatchObject({ changed: 2, total: 2 });
  });

  it('pauses a queue, shows queues and nodes, and a workflow as Mermaid', async () => {
    const client = await startKoban({ database: url, workers: [CliMailer] });
    const [step] = await client.insertAll(
      workflow()
        .add('first', newJob(CliMailer, { to: 'a' }))
        .add('second', newJob(CliMailer, { to: 'b' }), { deps: ['first'] }),
    );
    expect((await koban(['pause', 'mailers'])).stdout).toBe('pause mailers: sent to every node\n');
    const queues = JSON.parse((await koban(['queues', '--json'])).stdout);
    expect(queues.find((queue: { name: string }) => queue.name === 'mailers')).toMatchObject({
      paused: true,
    });
    const nodes = await koban(['nodes']);
    expect(nodes.stdout).toContain(client.node);
    const shown = await koban(['workflow', step!.workflowId!]);
    expect(shown.stdout).toContain('flowchart');
    expect(shown.stdout).toMatch(/first[\s\S]*-->[\s\S]*second|second[\s\S]*first/);
  });

  it('lists batches with their callbacks, and shows one with its counts and callbacks fired and pending', async () => {
    const client = await startKoban({
      database: url,
      workers: [CliBatchMailer],
      queues: { 'batch-mailers': { limit: 5 } },
    });
    const [first] = await client.insertAll(
      batch(
        Array.from({ length: 3 }, (_, n) => newJob(CliBatchMailer, { to: `b${n}@x` })),
        { batchName: 'cli-digest' },
      ),
    );
    const batchId = first!.batchId!;
    await waitFor('the completed callback', async () =>
      (await client.batchStatus(batchId))?.fired.includes('completed'),
    );

    const listed = await koban(['batch']);
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n')[0]).toMatch(
      /^BATCH\s+NAME\s+INSERTED\s+TOTAL\s+COMPLETED\s+DISCARDED\s+CANCELLED\s+CALLBACKS/,
    );
    const row = listed.stdout.split('\n').find((line) => line.startsWith(batchId));
    expect(row).toMatch(/cli-digest .* 3\s+3\s+0\s+0\s+completed \(fired\), exhausted$/);

    const shown = await koban(['batch', batchId]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`batch ${batchId}: 3/3 finished (done)`);
    expect(shown.stdout).toMatch(/completed\s+3/);
    expect(shown.stdout).toContain('callbacks fired: completed; pending: exhausted');
    const status = JSON.parse((await koban(['batch', batchId, '--json'])).stdout);
    expect(status).toMatchObject({ id: batchId, total: 3, fired: ['completed'] });
    expect((await koban(['batch', '00000000-0000-4000-8000-000000000000'])).code).toBe(3);
  });

  it('exits 2 on bad usage, 3 for an unknown id, 1 when the database cannot be reached', async () => {
    expect((await koban(['frobnicate'])).code).toBe(2);
    expect((await koban(['cancel'])).stderr).toMatch(/give job ids, or a filter/);
    const bad = await koban(['jobs', '--state', 'done']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/search\.state\[0\]: unknown state "done"/);
    expect((await koban(['job', '99999999'])).code).toBe(3);
    const down = await koban(['queues', '--database', 'postgres://postgres@127.0.0.1:1/none']);
    expect(down.code).toBe(1);
    expect((await koban(['queues'], { DATABASE_URL: '' })).stderr).toMatch(/give --database/);
  });

  it('stats reads the metrics history the nodes wrote: per queue and worker, over a window', async () => {
    const database = await freshDatabase();
    const node = await startKoban({
      database,
      queues: { mailers: 2, reports: 2 },
      workers: [CliMailer, CliReport],
    });
    await node.insertAll([
      ...Array.from({ length: 7 }, (_, n) => newJob(CliMailer, { to: `user${n}@x` })),
      ...[false, false, true].map((fail) => newJob(CliReport, { fail })),
    ]);
    await waitFor('every job to finish', async () => {
      const jobs = await node.listJobs({ limit: 100 });
      return (
        jobs.length === 10 && jobs.every((job) => job.state === 'completed' || job.state === 'discarded')
      );
    });
    await node.stop(); // writes the minute it was in
    const env = { DATABASE_URL: database };

    const read = await koban(['stats', '--json'], env);
    expect(read.code).toBe(0);
    const { rows } = JSON.parse(read.stdout);
    expect(
      rows.map((row: Record<string, unknown>) => [
        row.queue,
        row.worker,
        row.completed,
        row.discarded,
        (row.runTime as { count: number }).count,
      ]),
    ).toEqual([
      ['mailers', 'CliMailer', 7, 0, 7],
      ['reports', 'CliReport', 2, 1, 3],
    ]);

    const shown = await koban(['stats', '--since', '2h', '--queue', 'reports'], env);
    expect(shown.stdout.split('\n')[0]).toMatch(
      /^QUEUE\s+WORKER\s+COMPLETED\s+RETRIED\s+DISCARDED\s+CANCELLED\s+SNOOZED\s+RUN P50/,
    );
    expect(shown.stdout).toMatch(/^reports\s+CliReport\s+2\s+0\s+1\s+0\s+0\s/m);
    expect(shown.stdout).not.toContain('mailers');

    const all = await koban(['stats', '--group', 'none', '--json'], env);
    expect(JSON.parse(all.stdout).rows).toMatchObject([
      { queue: null, worker: null, completed: 9, discarded: 1 },
    ]);
    // Per minute: the run may straddle a minute's end, so the minutes add up to the totals.
    const minutes = JSON.parse(
      (await koban(['stats', '--group', 'none', '--step', '1', '--json'], env)).stdout,
    );
    expect(minutes.rows.reduce((sum: number, row: { completed: number }) => sum + row.completed, 0)).toBe(9);
    expect(minutes.rows.every((row: { at: string | null }) => row.at !== null)).toBe(true);

    const bad = await koban(['stats', '--since', 'yesterday'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--since: expected a span back from now \(90s, 30m, 6h, 7d\)/);
    const none = await koban(['stats', '--worker', 'Nobody'], env);
    expect(none.stdout).toMatch(/no attempts recorded from/);
  });

  it('doctor checks the schema, indexes, bloat, long transactions and LISTEN', async () => {
    const healthy = await koban(['doctor']);
    expect(healthy.code).toBe(0);
    expect(healthy.stdout).toMatch(/^OK\s+schema version: \d+/m);
    expect(healthy.stdout).toMatch(/^OK\s+indexes: \d+ present and valid/m);
    expect(healthy.stdout).toMatch(/^OK\s+LISTEN\/NOTIFY: a NOTIFY reached this connection/m);
    await withSql(url, (sql) => sql`DROP INDEX koban.job_history_queue_idx`);
    const broken = await koban(['doctor', '--json']);
    expect(broken.code).toBe(4);
    expect(
      JSON.parse(broken.stdout).find((check: { check: string }) => check.check === 'indexes'),
    ).toMatchObject({
      status: 'fail',
      detail: 'missing: job_history_queue_idx',
    });
    const fresh = await freshDatabase({ migrated: false });
    const behind = await koban(['doctor'], { DATABASE_URL: fresh });
    expect(behind.code).toBe(4);
    expect(behind.stdout).toMatch(/FAIL\s+schema version: 0, this Koban needs \d+: run koban migrate/);
    expect((await koban(['migrate'], { DATABASE_URL: fresh })).stdout).toMatch(
      /migrated from version 0 to \d+/,
    );
  });
});
