import { beforeAll, describe, expect, it } from 'vitest';
import {
  defineWorker,
  type Job,
  type JobSpec,
  type Koban,
  KobanError,
  KobanValidationError,
  newJob,
} from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';

class PlainWorker {
  async process(_job: Job<Record<string, unknown>>) {}
}
defineWorker(PlainWorker);

class MailWorker {
  async process(_job: Job<{ to: string }>) {}
}
defineWorker(MailWorker, { queue: 'mail', priority: 3, maxAttempts: 7, tags: ['mail'] });

class BulkWorker {
  async process(_job: Job<{ n: number }>) {}
}
defineWorker(BulkWorker, { queue: 'bulk' });

let url: string;
let koban: Koban;

beforeAll(async () => {
  url = await freshDatabase();
});

/** Insert-only: no queues, so nothing runs and states stay as inserted. */
async function start(): Promise<Koban> {
  koban = await startKoban({ database: url, queues: {} });
  return koban;
}

async function countJobs(worker: string): Promise<number> {
  return withSql(url, async (sql) => {
    const [row] = await sql<
      { n: number }[]
    >`SELECT count(*)::int AS n FROM koban.all_jobs WHERE worker = ${worker}`;
    return row!.n;
  });
}

describe('insert options', () => {
  it('applies the worker defaults', async () => {
    await start();
    const job = await koban.insert(newJob(MailWorker, { to: 'a@example.com' }));
    expect(job).toMatchObject({
      state: 'available',
      worker: 'MailWorker',
      queue: 'mail',
      priority: 3,
      maxAttempts: 7,
      tags: ['mail'],
      meta: {},
      args: { to: 'a@example.com' },
      attempt: 0,
      conflict: false,
    });
    expect(await koban.getJob(job.id)).toMatchObject({ queue: 'mail', priority: 3, maxAttempts: 7 });
  });

  it('schedules with scheduledAt and scheduleIn', async () => {
    await start();
    const at = new Date(Date.now() + 3_600_000);
    const exact = await koban.insert(newJob(PlainWorker, {}), { scheduledAt: at });
    expect(exact.state).toBe('scheduled');
    expect(exact.scheduledAt.getTime()).toBe(at.getTime());

    const before = Date.now();
    const relative = await koban.insert(newJob(PlainWorker, {}), { scheduleIn: 120 });
    expect(relative.state).toBe('scheduled');
    expect(relative.scheduledAt.getTime()).toBeGreaterThanOrEqual(before + 119_000);
    expect(relative.scheduledAt.getTime()).toBeLessThanOrEqual(Date.now() + 121_000);

    const past = await koban.insert(newJob(PlainWorker, {}), { scheduledAt: new Date(Date.now() - 60_000) });
    expect(past.state).toBe('available');
    expect((await koban.getJob(exact.id))?.state).toBe('scheduled');
  });

  it('stores priority, queue, tags, meta and maxAttempts given at insert', async () => {
    await start();
    const job = await koban.insert(newJob(PlainWorker, { a: 1 }), {
      priority: 9,
      queue: 'other',
      tags: ['x', 'y'],
      meta: { tenant: 't1', nested: { k: [1, 2] } },
      maxAttempts: 2,
    });
    const stored = await koban.getJob(job.id);
    expect(stored).toMatchObject({
      priority: 9,
      queue: 'other',
      tags: ['x', 'y'],
      meta: { tenant: 't1', nested: { k: [1, 2] } },
      maxAttempts: 2,
    });
  });

  it('lets insert options override builder options, which override worker defaults', async () => {
    await start();
    const spec = newJob(MailWorker, { to: 'b@example.com' }, { priority: 5, queue: 'builder', tags: ['b'] });
    const fromBuilder = await koban.insert(spec);
    expect(fromBuilder).toMatchObject({ priority: 5, queue: 'builder', tags: ['b'], maxAttempts: 7 });
    const overridden = await koban.insert(spec, { priority: 1, queue: 'insert' });
    expect(overridden).toMatchObject({ priority: 1, queue: 'insert', tags: ['b'], maxAttempts: 7 });
  });

  it.each([
    ['priority', { priority: 12 }, /priority/],
    ['priority (fraction)', { priority: 1.5 }, /priority/],
    ['maxAttempts', { maxAttempts: 0 }, /maxAttempts/],
    ['queue', { queue: 'bad queue!' }, /queue/],
    ['tags', { tags: [''] }, /tags/],
    ['scheduledAt', { scheduledAt: new Date('not a date') }, /scheduledAt/],
    ['scheduledAt (a string)', { scheduledAt: '2030-01-01' as unknown as Date }, /scheduledAt/],
    ['scheduleIn', { scheduleIn: -5 }, /scheduleIn/],
    ['both schedules', { scheduledAt: new Date(), scheduleIn: 10 }, /scheduledAt or scheduleIn/],
    // Times that Date or timestamptz cannot hold, and meta that is not a plain object, are bad options too.
    ['scheduleIn (beyond any date)', { scheduleIn: 1e15 }, /scheduleIn/],
    ['scheduledAt (beyond PostgreSQL timestamps)', { scheduledAt: new Date(8.64e15) }, /scheduledAt/],
    ['meta (a string)', { meta: 'x' as never }, /meta/],
    ['meta (an array)', { meta: [1] as never }, /meta/],
  ])('refuses a bad %s with an error naming it, writing nothing', async (_name, options, message) => {
    await start();
    const before = await countJobs('PlainWorker');
    const error = await koban.insert(newJob(PlainWorker, {}), options).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KobanError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain('PlainWorker');
    expect(await countJobs('PlainWorker')).toBe(before);
  });
});

describe('args that are not JSON', () => {
  it('lists every offending path in one KobanValidationError and writes nothing', async () => {
    await start();
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    const args = {
      ok: 'fine',
      fn: () => 1,
      map: new Map([['a', 1]]),
      when: new Date(),
      ratio: Number.NaN,
      big: 10n,
      nested: { list: [1, Number.POSITIVE_INFINITY], circular },
    };
    const before = await countJobs('PlainWorker');
    const error = await koban.insert(newJob(PlainWorker, args)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KobanValidationError);
    const issues = (error as KobanValidationError).issues.map((issue) => issue.path).sort();
    expect(issues).toEqual(
      [
        'args.big',
        'args.fn',
        'args.map',
        'args.nested.circular.self',
        'args.nested.list[1]',
        'args.ratio',
        'args.when',
      ].sort(),
    );
    expect((error as Error).message).toContain('PlainWorker');
    expect((error as KobanValidationError).issues.find((i) => i.path === 'args.when')?.message).toMatch(
      /Date/,
    );
    expect(await countJobs('PlainWorker')).toBe(before);
  });

  // JSON.stringify accepts these strings but jsonb does not: they must be reported by path, not as
  // a PostgreSQL error ("unsupported Unicode escape sequence") for the whole statement.
  it('lists strings that jsonb cannot store (NUL, lone surrogates) as validation issues', async () => {
    await start();
    const args = { name: 'a\u0000b', list: ['ok', '\ud800'] };
    const error = await koban.insert(newJob(PlainWorker, args)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KobanValidationError);
    expect((error as KobanValidationError).issues.map((issue) => issue.path)).toEqual([
      'args.name',
      'args.list[1]',
    ]);
  });

  it('refuses args that are not an object', async () => {
    await start();
    for (const args of [null, [1, 2], 'text', 3]) {
      await expect(koban.insert(newJob(PlainWorker, args as never))).rejects.toThrow(KobanValidationError);
    }
  });

  it('refuses meta that is not JSON', async () => {
    await start();
    const error = await koban
      .insert(newJob(PlainWorker, {}), { meta: { at: new Date() } })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KobanValidationError);
    expect((error as KobanValidationError).issues[0]?.path).toBe('meta.at');
  });
});

describe('insertAll', () => {
  it('streams 100,000 jobs from a generator in chunks', async () => {
    await start();
    const lastId = async () =>
      withSql(url, async (sql) => {
        // Sequence values are not transactional: another session sees rows claimed by uncommitted inserts.
        const [row] = await sql<{ id: string }[]>`
          SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS id FROM koban.jobs_id_seq`;
        return Number(row!.id);
      });
    const baseline = await lastId();
    const seenAtChunkStart: number[] = [];
    async function* source(): AsyncGenerator<JobSpec> {
      for (let n = 0; n < 100_000; n++) {
        if (n > 0 && n % 5000 === 0) seenAtChunkStart.push((await lastId()) - baseline);
        yield newJob(BulkWorker, { n });
      }
    }
    const inserted = await koban.insertAll(source(), { chunkSize: 5000 });
    expect(inserted).toHaveLength(100_000);
    expect(inserted[99_999]?.args).toEqual({ n: 99_999 });
    expect(await countJobs('BulkWorker')).toBe(100_000);
    // Two chunks at most are in flight: when the source is asked for job 5000·k, every chunk but
    // the last one taken is in the database, and nothing past the chunks taken is.
    expect(seenAtChunkStart).toHaveLength(19);
    seenAtChunkStart.forEach((seen, index) => {
      const chunksTaken = index + 1;
      expect(seen).toBeGreaterThanOrEqual((chunksTaken - 1) * 5000);
      expect(seen).toBeLessThanOrEqual(chunksTaken * 5000);
    });
  });

  it('rolls back the whole insertAll when a job in a later chunk is invalid', async () => {
    await start();
    function* source(): Generator<JobSpec> {
      for (let n = 0; n < 12_000; n++) yield newJob(PlainWorker, { batch: 'doomed', n });
      yield newJob(PlainWorker, { batch: 'doomed', bad: () => 1 });
    }
    const before = await countJobs('PlainWorker');
    await expect(koban.insertAll(source(), { chunkSize: 5000 })).rejects.toThrow(/args\.bad/);
    expect(await countJobs('PlainWorker')).toBe(before);
  });

  // 0 or less must not silently mean 1, nor NaN one chunk of everything.
  it('refuses a chunkSize that is not a positive integer', async () => {
    await start();
    for (const chunkSize of [0, -1, 1.5, Number.NaN]) {
      await expect(
        koban.insertAll([newJob(PlainWorker, {})], { chunkSize }),
        `chunkSize ${chunkSize}`,
      ).rejects.toThrow(/chunkSize/);
    }
  });

  it('inserts an array in order with each spec keeping its options', async () => {
    await start();
    const inserted = await koban.insertAll([
      newJob(PlainWorker, { i: 0 }, { priority: 4 }),
      newJob(MailWorker, { to: 'c@example.com' }),
      newJob(PlainWorker, { i: 2 }, { scheduleIn: 600 }),
    ]);
    expect(inserted.map((job) => [job.worker, job.priority, job.state])).toEqual([
      ['PlainWorker', 4, 'available'],
      ['MailWorker', 3, 'available'],
      ['PlainWorker', 0, 'scheduled'],
    ]);
  });
});
