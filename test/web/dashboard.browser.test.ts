import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batch, defineWorker, type Job, Koban, type KobanOps, newJob, workflow } from '../../index.js';
import { kobanDashboard } from '../../web/index.js';
import { repo } from '../support/compiled.js';
import { freshDatabase } from '../support/databases.js';
import { quietLogger, waitFor } from '../support/wait.js';

// Koban Web in Debian's Chromium, on a seeded database with a node running: filter, open a job,
// retry it, cancel everything matching a filter, pause a queue, watch a workflow's graph change
// as its steps finish. Screenshots of every page go to test-results/screenshots.

const shots = join(repo, 'test-results', 'screenshots');

class WebMailer {
  async process(job: Job<{ to: string; fail?: boolean }>) {
    if (job.args.fail) throw new Error(`mailbox ${job.args.to} is full`);
  }
}
defineWorker(WebMailer, { queue: 'mailers', maxAttempts: 1 });

class WebReport {
  async process(_job: Job<{ day: string }>) {}
}
defineWorker(WebReport, { queue: 'reports' });

/** A batch's worker with callbacks: one fires when every job completed, two stay pending. */
class WebDigest {
  async process(_job: Job<{ to: string }>) {}
  async handleCompleted(_job: Job<{ to: string }>) {}
  async handleDiscarded(_job: Job<{ to: string }>) {}
  async handleExhausted(_job: Job<{ to: string }>) {}
}
defineWorker(WebDigest, { queue: 'digests' });

const secret = randomBytes(32).toString('base64');
class WebPayment {
  async process(_job: Job<{ card: string }>) {}
}
defineWorker(WebPayment, { queue: 'payments', encrypted: { key: () => secret } });

/** Workflow steps wait for their gate to open, so the test sees them executing first. */
const gates = new Map<string, () => void>();
const waiting = new Map<string, Promise<void>>();
function gate(name: string): Promise<void> {
  if (!waiting.has(name)) waiting.set(name, new Promise((resolve) => gates.set(name, resolve)));
  return waiting.get(name)!;
}
class WebStep {
  async process(job: Job<{ step: string }>) {
    await gate(job.args.step);
  }
}
defineWorker(WebStep, { queue: 'steps' });
for (const step of ['extract', 'transform', 'load', 'notify', 'charge', 'receipt']) gate(step);

let url: string;
let ops: KobanOps;
let server: Server;
let readOnly: Server;
let base: string;
let browser: Browser;
let page: Page;
let workflowId: string;
let batchId: string;
let node: Koban;
let client: Koban;

function listen(handler: Parameters<typeof createServer>[1]): Promise<Server> {
  const started = createServer(handler);
  return new Promise((resolve) => started.listen(0, '127.0.0.1', () => resolve(started)));
}

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  url = await freshDatabase();
  // Started here, not with startKoban: they live for the whole file, not one test.
  node = await Koban.start({
    database: url,
    logger: quietLogger,
    pollInterval: 200,
    workers: [WebMailer, WebStep, WebPayment, WebReport, WebDigest],
    queues: { mailers: 5, steps: 3, payments: 2, digests: 2 },
    // The charts read the metrics history, written every 200 ms here instead of every minute.
    metrics: { interval: 200 },
    cron: [{ expression: '0 4 * * *', worker: WebReport, args: { day: 'today' }, name: 'configured-report' }],
    heartbeatInterval: 200,
    rescueAfter: 2000,
    blockTolerance: 1000,
  });
  client = await Koban.start({
    database: url,
    logger: quietLogger,
    workers: [WebMailer, WebReport, WebStep, WebPayment, WebDigest],
  });
  await client.insertAll([
    ...Array.from({ length: 12 }, (_, n) =>
      newJob(WebMailer, { to: `user${n}@example.com` }, { tags: ['welcome'] }),
    ),
    ...Array.from({ length: 3 }, (_, n) =>
      newJob(WebMailer, { to: `full${n}@example.com`, fail: true }, { tags: ['welcome'] }),
    ),
    ...Array.from({ length: 20 }, (_, n) =>
      newJob(WebReport, { day: `2026-12-${String(n + 1).padStart(2, '0')}` }),
    ),
    newJob(WebPayment, { card: '4242 4242 4242 4242' }),
  ]);
  const steps = await client.insertAll(
    workflow({ workflowName: 'nightly-etl' })
      .add('extract', newJob(WebStep, { step: 'extract' }))
      .add('transform', newJob(WebStep, { step: 'transform' }), { deps: ['extract'] })
      .add('load', newJob(WebStep, { step: 'load' }), { deps: ['transform'] })
      .add('notify', newJob(WebStep, { step: 'notify' }), { deps: ['extract'] })
      .addWorkflow(
        'billing',
        workflow()
          .add('charge', newJob(WebStep, { step: 'charge' }))
          .add('receipt', newJob(WebStep, { step: 'receipt' }), { deps: ['charge'] }),
        { deps: ['extract'] },
      ),
  );
  workflowId = steps[0]!.workflowId!;
  const digest = await client.insertAll(
    batch(
      Array.from({ length: 4 }, (_, n) => newJob(WebDigest, { to: `digest${n}@example.com` })),
      { batchName: 'weekly-digest' },
    ),
  );
  batchId = digest[0]!.batchId!;
  await client.cron.insert({
    name: 'nightly-report',
    expression: '0 3 * * *',
    worker: WebReport,
    args: { day: 'yesterday' },
  });
  await waitFor(
    'the mail to be sent',
    async () => (await client.listJobs({ queue: 'mailers', state: 'discarded' })).length === 3,
  );
  await waitFor('the batch to finish and its callback to fire', async () =>
    (await client.batchStatus(batchId))?.fired.includes('completed'),
  );
  ops = await Koban.connect({ database: url });
  const dashboard = kobanDashboard({ ops, basePath: '/koban', authorize: () => true, refreshInterval: 500 });
  server = await listen((req, res) => void dashboard.node(req, res));
  const viewer = kobanDashboard({ ops, basePath: '/koban' });
  readOnly = await listen((req, res) => void viewer.node(req, res));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/koban`;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  page.on('dialog', (dialog) => void dialog.accept());
}, 180_000);

afterAll(async () => {
  for (const resolve of gates.values()) resolve();
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
  await new Promise((resolve) => readOnly?.close(resolve));
  await ops?.close();
  await client?.stop();
  await node?.stop();
});

const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

describe('Koban Web in a browser', () => {
  it('shows the overview: queues with counts, nodes, the leader, and charts of the metrics history', async () => {
    await waitFor('the attempts to reach the metrics history', async () => {
      const points = await ops.metricsHistory({ from: new Date(Date.now() - 3_600_000), groupBy: 'queue' });
      const mailers = points.filter((point) => point.queue === 'mailers');
      return (
        mailers.reduce((sum, point) => sum + point.completed, 0) === 12 &&
        mailers.reduce((sum, point) => sum + point.discarded, 0) === 3
      );
    });
    await page.goto(`${base}/`);
    await page.waitForSelector('text=leader:');
    await page.waitForSelector('figure.chart');
    const text = await page.textContent('main');
    expect(text).toMatch(/mailers/);
    expect(text).toMatch(/reports/);
    expect(text).toContain(node.node);
    expect(text).not.toContain('No attempts recorded');
    // The mailers' sparkline rises off its baseline in the minute the mail went out.
    const spark = (await page.getAttribute('tr:has(a:text-is("mailers")) svg.spark polyline', 'points'))!;
    expect(new Set(spark.split(' ').map((point) => point.split(',')[1])).size).toBeGreaterThan(1);
    await shot('overview');
  });

  it('filters jobs, opens one, and retries it', async () => {
    await page.goto(`${base}/#/jobs?queue=mailers&state=discarded`);
    await page.waitForSelector('#jobs tbody tr');
    expect(await page.locator('#jobs tbody tr').count()).toBe(3);
    await shot('jobs-filtered');
    await page.locator('#jobs tbody tr a').first().click();
    await page.waitForSelector('text=Errors (1)');
    expect(await page.textContent('main')).toMatch(/mailbox full\d@example.com is full/);
    expect(await page.textContent('main')).toMatch(/at WebMailer\.process|Error: mailbox/);
    await shot('job-detail');
    const id = page.url().split('/').pop()!;
    await page.click('button[data-action=retry]');
    await page.waitForSelector('.flash.ok');
    await waitFor('the job to run again', async () => (await ops.job(id))!.job.attempt === 2);
  });

  it('shows an encrypted job as its envelope, never the plaintext', async () => {
    const [payment] = (await ops.searchJobs({ worker: 'WebPayment' })).jobs;
    await page.goto(`${base}/#/jobs/${payment!.id}`);
    // The page shown before was a job too: wait for this one's, not the last one's args.
    await page.waitForSelector(`h1:has-text("Job ${payment!.id} ")`);
    await page.waitForSelector('#args');
    const args = (await page.textContent('#args')) ?? '';
    expect(args).not.toContain('4242');
    expect(args.length).toBeGreaterThan(20);
  });

  it('cancels everything matching a filter after a count', async () => {
    await page.goto(`${base}/#/jobs?queue=reports`);
    await page.waitForSelector('#jobs tbody tr');
    await page.fill('#reason', 'reports moved to the new service');
    await page.click('button[data-action=cancel-all]');
    await page.waitForSelector('.flash.ok >> text=cancel:');
    expect(await page.textContent('.flash.ok')).toBe('cancel: 20 of 20 job(s) changed');
    expect(await ops.countJobs({ queue: 'reports', state: 'cancelled' })).toBe(20);
    const [one] = (await ops.searchJobs({ queue: 'reports' }, { limit: 1 })).jobs;
    expect(one!.errors.at(-1)!.error).toBe('cancelled: reports moved to the new service');
  });

  it('pauses a queue on every node', async () => {
    await page.goto(`${base}/#/queues`);
    await page.click('tr[data-queue=mailers] button[data-action=pause]');
    await page.waitForSelector('tr[data-queue=mailers] .tag.paused');
    await waitFor(
      'the node to pause',
      () => node.queues().find((queue) => queue.queue === 'mailers')?.paused,
    );
    await shot('queues');
  });

  it("watches a workflow's graph change as its steps finish, live", async () => {
    await page.goto(`${base}/#/workflows/${workflowId}`);
    await page.waitForSelector('g[data-step=extract][data-state=executing]');
    expect(await page.getAttribute('g[data-step=load]', 'data-state')).toBe('held');
    // The sub-workflow is one node, with its steps' progress, until it is unfolded.
    expect(await page.textContent('g[data-part=billing]')).toContain('held · 0/2 done');
    expect(await page.locator('g[data-step="billing.charge"]').count()).toBe(0);
    await shot('workflow-running');
    gates.get('extract')!();
    await page.waitForSelector('g[data-step=extract][data-state=completed]');
    await page.waitForSelector('g[data-step=transform][data-state=executing]');
    await page.click('g[data-part=billing]');
    await page.waitForSelector('g[data-step="billing.charge"][data-state=executing]');
    expect(await page.getAttribute('g[data-step="billing.receipt"]', 'data-state')).toBe('held');
    await shot('workflow-unfolded');
    await page.click('button[data-part=billing]');
    await page.waitForSelector('g[data-part=billing]');
    for (const step of ['transform', 'load', 'notify', 'charge', 'receipt']) gates.get(step)!();
    await page.waitForSelector('#workflow-state.completed');
    expect(await page.textContent('g[data-part=billing]')).toContain('completed · 2/2 done');
    expect(await page.locator('g.step.completed').count()).toBe(5);
    await shot('workflow-completed');
    await page.goto(`${base}/#/workflows`);
    await page.waitForSelector(`tr[data-workflow="${workflowId}"]`);
    expect(await page.textContent(`tr[data-workflow="${workflowId}"]`)).toMatch(/nightly-etl.*completed 6/);
    await shot('workflows');
  });

  it('shows batches, cron entries (and runs one now) and nodes', async () => {
    // Wait for the list's own rows: the nav's "Batches" and the last page's links are there at once.
    await page.goto(`${base}/#/batches`);
    await page.waitForSelector(`tr[data-batch="${batchId}"]`);
    const row = await page.textContent(`tr[data-batch="${batchId}"]`);
    expect(row).toContain('weekly-digest');
    expect(row).toContain('completed (1 of 3)');
    await shot('batches');
    await page.click(`tr[data-batch="${batchId}"] a`);
    await page.waitForSelector('text=Callbacks fired');
    expect(await page.textContent('#callbacks')).toBe(
      'Callbacks fired: completed; pending: discarded, exhausted',
    );
    await shot('batch');
    await page.goto(`${base}/#/crons`);
    await page.waitForSelector('tr[data-cron=nightly-report]');
    await page.click('tr[data-cron=nightly-report] button[data-action=run]');
    await page.waitForSelector('.flash.ok >> text=inserted');
    expect(await page.textContent('.flash.ok')).toMatch(/^job \d+ inserted$/);
    // An entry of the node's configuration is run and paused from here too.
    await page.click('tr[data-cron=configured-report] button[data-action=pause]');
    await page.waitForSelector('tr[data-cron=configured-report] .tag.paused');
    expect((await ops.crons()).find((entry) => entry.name === 'configured-report')).toMatchObject({
      source: 'config',
      paused: true,
    });
    await page.click('tr[data-cron=configured-report] button[data-action=run]');
    await page.waitForSelector('.flash.ok >> text=inserted');
    await shot('crons');
    await page.goto(`${base}/#/nodes`);
    await page.waitForSelector(`text=${node.node}`);
    await shot('nodes');
  });
});

describe('the dashboard refuses forged, malformed and unauthorised writes', () => {
  async function tokenOf(address: string) {
    const response = await fetch(`${address}/`);
    const cookie = response.headers.get('set-cookie')!.split(';')[0]!;
    const token = /data-token="([^"]+)"/.exec(await response.text())![1]!;
    return { cookie, token };
  }
  const post = (address: string, path: string, body: string, headers: Record<string, string>) =>
    fetch(`${address}${path}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
    });

  it('changes nothing for any of them, and says why without echoing args', async () => {
    const before = await ops.countJobs({ state: 'cancelled' });
    const [target] = (await ops.searchJobs({ queue: 'mailers', state: 'discarded' }, { limit: 1 })).jobs;
    const body = JSON.stringify({ ids: [target!.id] });
    const { cookie, token } = await tokenOf(base);
    const forged = [
      await post(base, '/api/jobs/cancel', body, {}),
      await post(base, '/api/jobs/cancel', body, { cookie }),
      await post(base, '/api/jobs/cancel', body, { cookie, 'x-koban-csrf': 'x'.repeat(token.length) }),
      await post(base, '/api/jobs/cancel', body, {
        cookie,
        'x-koban-csrf': token,
        origin: 'https://evil.example',
      }),
    ];
    expect(forged.map((response) => response.status)).toEqual([403, 403, 403, 403]);
    const viewerBase = `http://127.0.0.1:${(readOnly.address() as AddressInfo).port}/koban`;
    const viewer = await tokenOf(viewerBase);
    const unauthorised = await post(viewerBase, '/api/jobs/cancel', body, {
      cookie: viewer.cookie,
      'x-koban-csrf': viewer.token,
    });
    expect(unauthorised.status).toBe(403);
    expect(((await unauthorised.json()) as { error: string }).error).toMatch(/not allowed: jobs.cancel/);
    const ok = { cookie, 'x-koban-csrf': token };
    const malformed = [
      await post(base, '/api/jobs/cancel', '{not json', ok),
      await post(base, '/api/jobs/cancel', JSON.stringify({ ids: ['1; DROP TABLE koban.jobs'] }), ok),
      await post(base, '/api/jobs/cancel', JSON.stringify({ ids: [target!.id], sneaky: true }), ok),
      await post(base, '/api/jobs/cancel', JSON.stringify({ filter: {} }), ok),
      await post(base, '/api/jobs/cancel', JSON.stringify({ filter: { state: 'gone' } }), ok),
      await post(base, '/api/queues/mailers/scale', JSON.stringify({ limit: -3 }), ok),
      await post(base, '/api/jobs/cancel', JSON.stringify([1, 2]), ok),
    ];
    expect(malformed.map((response) => response.status)).toEqual([400, 400, 400, 400, 400, 400, 400]);
    const messages = (await Promise.all(malformed.map((response) => response.json()))) as { error: string }[];
    expect(messages.map((message) => message.error).join('\n')).not.toMatch(/example\.com|4242/);
    expect((await fetch(`${base}/api/jobs?colour=red`)).status).toBe(400);
    expect((await fetch(`${base}/api/jobs/123abc`)).status).toBe(404);
    expect(await ops.countJobs({ state: 'cancelled' })).toBe(before);
    expect((await ops.job(target!.id))!.job.state).toBe('discarded');
  });

  it('answers a poll with 304 while nothing changed, one read per interval for every tab', async () => {
    const first = await fetch(`${base}/api/overview`);
    const etag = first.headers.get('etag')!;
    const again = await fetch(`${base}/api/overview`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });
});
