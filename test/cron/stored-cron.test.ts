import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JobRecord, Koban, KobanValidationError } from '../../index.js';
import { freshDatabase } from '../support/databases.js';
import { quietLogger, waitFor } from '../support/wait.js';
import { backends } from '../workflows/support.js';
import { CronPing, CronReport, cronWorkers } from './workers.js';

// Cron entries stored in the database and changed at run time through koban.cron: each change
// reaches the scheduler at once, and every tick's job carries the entry's args and options.

describe.each(backends)('koban.cron on %s', (backend) => {
  let koban: Koban;

  beforeAll(async () => {
    koban = await Koban.start({
      database: backend === 'postgres' ? await freshDatabase() : undefined,
      logger: quietLogger,
      workers: cronWorkers,
      // A slow net: changes must arrive by signal, not by the periodic read.
      cronSyncInterval: 60_000,
      cron: [{ expression: '0 6 * * *', worker: CronPing, name: 'configured' }],
    });
  });
  afterAll(() => koban.stop());

  const jobsOf = async (name: string) =>
    (await koban.listJobs({ worker: 'CronReport', limit: 1000 })).filter((job) => job.meta.cron === name);
  const ticks = (jobs: JobRecord[]) =>
    jobs.map((job) => job.meta.cronTick).filter((tick) => tick !== 'manual');

  it('inserts a job per tick with the entry args and job options, once inserted', async () => {
    const entry = await koban.cron.insert({
      name: 'every-second',
      expression: '* * * * * *',
      worker: CronReport,
      args: { kind: 'daily', n: 1 },
      queue: 'cron_other',
      priority: 5,
      tags: ['cron'],
      meta: { team: 'ops' },
    });
    expect(entry).toMatchObject({
      name: 'every-second',
      source: 'database',
      worker: 'CronReport',
      args: { kind: 'daily', n: 1 },
      options: { queue: 'cron_other', priority: 5, tags: ['cron'], meta: { team: 'ops' } },
      paused: false,
      guaranteed: false,
      lastTick: null,
    });
    expect(entry.nextTick!.getTime()).toBeGreaterThan(Date.now() - 1000);
    const [job] = await waitFor('a tick of the new entry', async () => {
      const jobs = await jobsOf('every-second');
      return jobs.length > 0 ? jobs : null;
    });
    expect(job).toMatchObject({
      queue: 'cron_other',
      priority: 5,
      maxAttempts: 7, // the worker's, not overridden
      tags: ['cron'],
      args: { kind: 'daily', n: 1 },
      meta: { team: 'ops', cron: 'every-second' },
    });
    expect(Date.parse(job!.meta.cronTick as string) % 1000).toBe(0);
    const listed = await koban.cron.get('every-second');
    expect(listed!.lastTick).toBeInstanceOf(Date);
  });

  it('applies an update to the next ticks; pause stops them, resume starts them again', async () => {
    await koban.cron.update('every-second', { args: { kind: 'weekly', n: 2 }, priority: 1 });
    await waitFor('a tick with the new args', async () =>
      (await jobsOf('every-second')).some((job) => job.args.kind === 'weekly' && job.priority === 1),
    );
    const paused = await koban.cron.pause('every-second');
    expect(paused).toMatchObject({ paused: true, nextTick: null });
    // A tick being inserted as the pause lands may still commit: count after it settles.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = (await jobsOf('every-second')).length;
    await new Promise((resolve) => setTimeout(resolve, 2200));
    expect((await jobsOf('every-second')).length).toBe(before);
    await koban.cron.resume('every-second');
    await waitFor('a tick after resume', async () => (await jobsOf('every-second')).length > before);
  });

  it('run inserts a job now, outside the schedule, even when paused', async () => {
    await koban.cron.insert({
      name: 'nightly',
      expression: '0 3 * * *',
      timezone: 'Europe/Paris',
      worker: CronReport,
      args: { kind: 'daily' },
      paused: true,
    });
    const job = await koban.cron.run('nightly');
    expect(job).toMatchObject({
      worker: 'CronReport',
      args: { kind: 'daily' },
      meta: { cron: 'nightly', cronTick: 'manual' },
    });
    const configured = await koban.cron.run('configured');
    expect(configured.meta).toMatchObject({ cron: 'configured', cronTick: 'manual' });
  });

  it('pauses and resumes a configured entry by name, as the listing shows', async () => {
    expect(await koban.cron.pause('configured')).toMatchObject({
      source: 'config',
      paused: true,
      nextTick: null,
    });
    expect(await koban.cron.get('configured')).toMatchObject({ paused: true, nextTick: null });
    const resumed = await koban.cron.resume('configured');
    expect(resumed).toMatchObject({ paused: false });
    expect(resumed.nextTick!.getUTCHours()).toBe(6);
  });

  it('lists stored and configured entries by name', async () => {
    const listed = await koban.cron.list();
    expect(listed.map((entry) => [entry.name, entry.source])).toEqual([
      ['configured', 'config'],
      ['every-second', 'database'],
      ['nightly', 'database'],
    ]);
    const nightly = listed.find((entry) => entry.name === 'nightly')!;
    expect(nightly).toMatchObject({ timezone: 'Europe/Paris', paused: true, nextTick: null });
    expect(listed[0]!.nextTick!.getUTCHours()).toBe(6);
  });

  it('delete stops the ticks; the jobs already inserted stay', async () => {
    expect(await koban.cron.delete('every-second')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const left = (await jobsOf('every-second')).length;
    expect(left).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await jobsOf('every-second')).length).toBe(left);
    expect(await koban.cron.delete('every-second')).toBe(false);
    expect(await koban.cron.get('every-second')).toBeNull();
    expect(ticks(await jobsOf('every-second'))).toHaveLength(left);
  });

  it('refuses bad entries and changes with a message naming the entry and the field', async () => {
    const refuse = async (attempt: Promise<unknown>, message: string | RegExp) => {
      const error = await attempt.then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(KobanValidationError);
      expect((error as Error).message).toMatch(message);
    };
    const base = {
      name: 'bad',
      expression: '0 * * * *',
      worker: CronReport,
      args: { kind: 'daily' as const },
    };
    await refuse(
      koban.cron.insert({ ...base, expression: '61 * * * *' }),
      /^cron.insert: expression: invalid cron expression "61 \* \* \* \*"/,
    );
    await refuse(koban.cron.insert({ ...base, timezone: 'Mars/Olympus' }), /or timezone "Mars\/Olympus"/);
    await refuse(
      koban.cron.insert({ ...base, args: { kind: 'monthly' } as never, priority: 12 }),
      /^cron.insert\("bad"\): insert CronReport: priority must be an integer from 0 to 9, got 12/,
    );
    await refuse(koban.cron.insert({ ...base, name: '' }), /^cron.insert: name: expected a non-empty string/);
    await refuse(
      koban.cron.insert({ ...base, name: 'configured' }),
      /is an entry of Koban.start\(\{ cron \}\)/,
    );
    await refuse(koban.cron.insert({ ...base, name: 'nightly' }), /a cron entry named "nightly" exists/);
    await refuse(
      koban.cron.insert({ ...base, guaranteed: 'yes' as never }),
      /guaranteed: expected true or false/,
    );
    await refuse(
      koban.cron.update('missing', { priority: 1 }),
      /^cron.update\("missing"\): name: no cron entry named "missing"/,
    );
    await refuse(
      koban.cron.update('nightly', { expression: 'never' }),
      /^cron.update\("nightly"\): expression: invalid cron/,
    );
    await refuse(
      koban.cron.update('nightly', { queue: 'no spaces' }),
      /^cron.update\("nightly"\): insert CronReport: queue must be a name/,
    );
    await refuse(koban.cron.update('configured', { priority: 1 }), /change it there/);
    await refuse(koban.cron.run('missing'), /no cron entry named "missing"/);
    // Nothing was stored or changed by the refused calls.
    expect(await koban.cron.get('bad')).toBeNull();
    expect(await koban.cron.get('nightly')).toMatchObject({ expression: '0 3 * * *', options: {} });
  });

  it('types args from the worker', () => {
    const typed = () =>
      koban.cron.insert({
        name: 'typed',
        expression: '@daily',
        worker: CronReport,
        // @ts-expect-error kind is 'daily' | 'weekly'
        args: { kind: 'hourly' },
      });
    expect(typeof typed).toBe('function');
  });
});
