import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineWorker, type Job, Koban, KobanValidationError, newJob } from '../../index.js';
import { canonicalJson } from '../../runtime/workers/unique.js';
import { freshDatabase } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { quietLogger } from '../support/wait.js';
import { exec, rawJob, rawJobs } from './support.js';

type ImportArgs = { importId: number; note?: string };

class ImportWorker {
  async process(_job: Job<ImportArgs>) {}
}
defineWorker(ImportWorker, { queue: 'imports', unique: { period: 60, states: 'incomplete' } });

class DefaultUniqueWorker {
  async process(_job: Job<{ n: number }>) {}
}
defineWorker(DefaultUniqueWorker, { unique: {} });

class KeyedWorker {
  async process(_job: Job<{ userId: number; note: string }>) {}
}
defineWorker(KeyedWorker, { unique: { keys: ['userId'], period: 'infinity' } });

class NotifyWorker {
  async process(_job: Job<{ body: string }>) {}
}
defineWorker(NotifyWorker);

class PlainWorker {
  async process(_job: Job<{ n: number }>) {}
}
defineWorker(PlainWorker);

class BadUniqueWorker {
  async process(_job: Job<{ n: number }>) {}
}
defineWorker(BadUniqueWorker, { unique: { period: 0 } });

let url: string;
let koban: Koban;
let next = 0;
/** A fresh id per test, so tests sharing the database never collide. */
const fresh = () => ++next * 1000 + Math.floor(Math.random() * 1000);

beforeAll(async () => {
  url = await freshDatabase();
  koban = await Koban.start({
    database: url,
    queues: {},
    logger: quietLogger,
    workers: [ImportWorker, DefaultUniqueWorker, KeyedWorker, NotifyWorker, PlainWorker],
  });
});

afterAll(() => koban.stop());

async function setState(id: string, state: string) {
  await exec(url, 'UPDATE koban.jobs SET state = $2 WHERE id = $1', [id, state]);
}

describe('unique jobs: conflicts', () => {
  it('returns the existing job with conflict: true for a duplicate, and inserts a job with other args', async () => {
    const importId = fresh();
    const first = await koban.insert(newJob(ImportWorker, { importId }));
    const second = await koban.insert(newJob(ImportWorker, { importId }));
    const other = await koban.insert(newJob(ImportWorker, { importId: importId + 1 }));
    expect(first.conflict).toBe(false);
    expect(second).toMatchObject({ id: first.id, conflict: true, args: { importId } });
    expect(other.conflict).toBe(false);
    expect(other.id).not.toBe(first.id);
  });

  it('compares args canonically: key order does not matter', async () => {
    const importId = fresh();
    const first = await koban.insert(newJob(ImportWorker, { importId, note: 'x' }));
    const second = await koban.insert(newJob(ImportWorker, { note: 'x', importId }));
    expect(second).toMatchObject({ id: first.id, conflict: true });
  });

  it('stores a SHA-256 of the canonical compared fields as the key, and the states as a bitmask', async () => {
    const importId = fresh();
    const job = await koban.insert(newJob(ImportWorker, { importId }));
    const row = await rawJob(url, job.id);
    const expected = createHash('sha256')
      .update(canonicalJson({ worker: 'ImportWorker', queue: 'imports', args: { importId } }))
      .digest('hex');
    expect(row.unique_key).toBe(expected);
    // incomplete = available 1 | scheduled 2 | executing 4 | retryable 8 | held 128
    expect(row.unique_states).toBe(143);
  });

  it('leaves plain jobs without a key', async () => {
    const job = await koban.insert(newJob(PlainWorker, { n: fresh() }));
    const row = await rawJob(url, job.id);
    expect(row.unique_key).toBeNull();
    expect(row.unique_states).toBeNull();
  });

  it('keys: compares only the listed args', async () => {
    const userId = fresh();
    const first = await koban.insert(newJob(KeyedWorker, { userId, note: 'a' }));
    const second = await koban.insert(newJob(KeyedWorker, { userId, note: 'b' }));
    expect(second).toMatchObject({ id: first.id, conflict: true, args: { note: 'a' } });
    expect((await koban.insert(newJob(KeyedWorker, { userId: userId + 1, note: 'a' }))).conflict).toBe(false);
  });

  it('fields: by default the queue counts; without it, the same args in another queue conflict', async () => {
    const importId = fresh();
    const first = await koban.insert(newJob(ImportWorker, { importId }));
    const elsewhere = await koban.insert(newJob(ImportWorker, { importId }, { queue: 'other' }));
    expect(elsewhere.conflict).toBe(false);
    const n = fresh();
    const a = await koban.insert(newJob(PlainWorker, { n }), { unique: { fields: ['worker', 'args'] } });
    const b = await koban.insert(newJob(PlainWorker, { n }, { queue: 'other' }), {
      unique: { fields: ['worker', 'args'] },
    });
    expect(b).toMatchObject({ id: a.id, conflict: true });
    expect(first.conflict).toBe(false);
  });

  it('fields: meta compares the whole meta when given as a field', async () => {
    const n = fresh();
    const unique = { fields: ['worker', 'meta'] as const };
    const a = await koban.insert(newJob(PlainWorker, { n }, { meta: { tenant: n } }), { unique });
    const b = await koban.insert(newJob(PlainWorker, { n: n + 1 }, { meta: { tenant: n } }), { unique });
    const c = await koban.insert(newJob(PlainWorker, { n }, { meta: { tenant: n, extra: 1 } }), { unique });
    expect(b).toMatchObject({ id: a.id, conflict: true });
    expect(c.conflict).toBe(false);
  });

  it('meta keys per insert, as in the seed: unique by meta.userId, whatever the args', async () => {
    const userId = fresh();
    const insert = (body: string, id: number) =>
      koban.insert(newJob(NotifyWorker, { body }, { meta: { userId: id, trace: body } }), {
        unique: { keys: [], meta: ['userId'] },
      });
    const first = await insert('one', userId);
    const second = await insert('two', userId);
    const third = await insert('one', userId + 1);
    expect(second).toMatchObject({ id: first.id, conflict: true, args: { body: 'one' } });
    expect(third.conflict).toBe(false);
  });

  it('per-insert options override the worker options, and unique: false turns uniqueness off', async () => {
    const userId = fresh();
    const first = await koban.insert(newJob(KeyedWorker, { userId, note: 'a' }));
    const off = await koban.insert(newJob(KeyedWorker, { userId, note: 'a' }), { unique: false });
    expect(off.conflict).toBe(false);
    expect(off.id).not.toBe(first.id);
    expect((await rawJob(url, off.id)).unique_key).toBeNull();
    // keys: [] + meta replaces the worker's keys; the worker's period and states still apply.
    const byMeta = await koban.insert(newJob(KeyedWorker, { userId, note: 'a' }, { meta: { m: 1 } }), {
      unique: { keys: [], meta: ['m'] },
    });
    expect(byMeta.conflict).toBe(false);
  });

  it('takes unique options given to new(args, { unique })', async () => {
    const n = fresh();
    const a = await koban.insert(newJob(PlainWorker, { n }, { unique: { period: 'infinity' } }));
    const b = await koban.insert(newJob(PlainWorker, { n }, { unique: { period: 'infinity' } }));
    expect(b).toMatchObject({ id: a.id, conflict: true });
  });
});

describe('unique jobs: states', () => {
  it("'incomplete': a completed holder no longer blocks", async () => {
    const importId = fresh();
    const first = await koban.insert(newJob(ImportWorker, { importId }));
    await setState(first.id, 'executing');
    expect((await koban.insert(newJob(ImportWorker, { importId }))).conflict).toBe(true);
    await setState(first.id, 'completed');
    const again = await koban.insert(newJob(ImportWorker, { importId }));
    expect(again.conflict).toBe(false);
  });

  it("default 'successful': completed blocks, cancelled and discarded do not", async () => {
    const n = fresh();
    const first = await koban.insert(newJob(DefaultUniqueWorker, { n }));
    await setState(first.id, 'completed');
    expect((await koban.insert(newJob(DefaultUniqueWorker, { n }))).conflict).toBe(true);
    await setState(first.id, 'cancelled');
    const second = await koban.insert(newJob(DefaultUniqueWorker, { n }));
    expect(second.conflict).toBe(false);
    await setState(second.id, 'discarded');
    expect((await koban.insert(newJob(DefaultUniqueWorker, { n }))).conflict).toBe(false);
  });

  it("'all' blocks even after a cancel; 'scheduled' holds only while scheduled; a list is taken as given", async () => {
    const n = fresh();
    const all = { states: 'all' as const };
    const first = await koban.insert(newJob(PlainWorker, { n }), { unique: all });
    await setState(first.id, 'cancelled');
    expect((await koban.insert(newJob(PlainWorker, { n }), { unique: all })).conflict).toBe(true);

    const m = fresh();
    const scheduled = { states: 'scheduled' as const };
    const later = await koban.insert(newJob(PlainWorker, { n: m }, { scheduleIn: 3600 }), {
      unique: scheduled,
    });
    expect(later.state).toBe('scheduled');
    expect((await koban.insert(newJob(PlainWorker, { n: m }), { unique: scheduled })).conflict).toBe(true);
    await setState(later.id, 'available');
    expect((await koban.insert(newJob(PlainWorker, { n: m }), { unique: scheduled })).conflict).toBe(false);

    const k = fresh();
    const list = { states: ['available', 'retryable'] as const };
    const held = await koban.insert(newJob(PlainWorker, { n: k }), { unique: list });
    expect((await rawJob(url, held.id)).unique_states).toBe(1 | 8);
    await setState(held.id, 'retryable');
    expect((await koban.insert(newJob(PlainWorker, { n: k }), { unique: list })).conflict).toBe(true);
    await setState(held.id, 'executing');
    expect((await koban.insert(newJob(PlainWorker, { n: k }), { unique: list })).conflict).toBe(false);
  });
});

describe('unique jobs: period', () => {
  it('lets a new job in once the holder is older than the period (database clock)', async () => {
    const importId = fresh();
    const first = await koban.insert(newJob(ImportWorker, { importId }));
    await exec(url, "UPDATE koban.jobs SET inserted_at = now() - interval '59 seconds' WHERE id = $1", [
      first.id,
    ]);
    expect((await koban.insert(newJob(ImportWorker, { importId }))).conflict).toBe(true);
    await exec(url, "UPDATE koban.jobs SET inserted_at = now() - interval '61 seconds' WHERE id = $1", [
      first.id,
    ]);
    const second = await koban.insert(newJob(ImportWorker, { importId }));
    expect(second.conflict).toBe(false);
    expect(second.id).not.toBe(first.id);
    // The expired holder keeps running but no longer holds the key; the new job does.
    expect((await rawJob(url, first.id)).unique_key).toBeNull();
    expect((await koban.insert(newJob(ImportWorker, { importId }))).id).toBe(second.id);
  });

  it("'infinity' never expires", async () => {
    const userId = fresh();
    const first = await koban.insert(newJob(KeyedWorker, { userId, note: '' }));
    await exec(url, "UPDATE koban.jobs SET inserted_at = now() - interval '10 years' WHERE id = $1", [
      first.id,
    ]);
    expect((await koban.insert(newJob(KeyedWorker, { userId, note: '' }))).id).toBe(first.id);
  });
});

describe('unique jobs: replace', () => {
  it('flat replace: a conflicting insert updates the listed fields in any state', async () => {
    const n = fresh();
    const unique = { replace: ['scheduledAt', 'priority', 'tags', 'meta', 'maxAttempts'] as const };
    const first = await koban.insert(newJob(PlainWorker, { n }, { scheduleIn: 3600 }), { unique });
    const at = new Date(Date.now() + 7200_000);
    const second = await koban.insert(
      newJob(
        PlainWorker,
        { n },
        { scheduledAt: at, priority: 5, tags: ['t'], meta: { v: 2 }, maxAttempts: 3 },
      ),
      { unique },
    );
    expect(second).toMatchObject({ id: first.id, conflict: true, priority: 5, tags: ['t'], meta: { v: 2 } });
    expect(second.scheduledAt.getTime()).toBe(at.getTime());
    const row = await rawJob(url, first.id);
    expect(row).toMatchObject({ priority: 5, max_attempts: 3, state: 'scheduled' });
  });

  it('a new scheduledAt in the past makes a scheduled holder available', async () => {
    const n = fresh();
    const unique = { replace: ['scheduledAt'] as const };
    const first = await koban.insert(newJob(PlainWorker, { n }, { scheduleIn: 3600 }), { unique });
    const second = await koban.insert(
      newJob(PlainWorker, { n }, { scheduledAt: new Date(Date.now() - 1000) }),
      {
        unique,
      },
    );
    expect(second).toMatchObject({ id: first.id, conflict: true, state: 'available' });
  });

  it('replace by state: only a holder in a listed state is updated', async () => {
    const n = fresh();
    const unique = { keys: [], meta: ['n'], replace: { scheduled: ['scheduledAt', 'args'] } } as const;
    const insert = (body: string, scheduleIn: number) =>
      koban.insert(newJob(NotifyWorker, { body }, { scheduleIn, meta: { n } }), { unique });
    const first = await insert('a', 3600);
    const replaced = await insert('b', 7200);
    expect(replaced).toMatchObject({ id: first.id, conflict: true, state: 'scheduled', args: { body: 'b' } });
    await setState(first.id, 'executing');
    const kept = await insert('c', 10);
    expect(kept).toMatchObject({ id: first.id, conflict: true, state: 'executing', args: { body: 'b' } });
  });

  it('replace: queue and args move the holder', async () => {
    const userId = fresh();
    const unique = { fields: ['worker', 'args'], replace: ['args', 'queue'] } as const;
    const first = await koban.insert(newJob(KeyedWorker, { userId, note: 'old' }), { unique });
    const second = await koban.insert(newJob(KeyedWorker, { userId, note: 'new' }, { queue: 'fast' }), {
      unique,
    });
    expect(second).toMatchObject({
      id: first.id,
      conflict: true,
      queue: 'fast',
      args: { userId, note: 'new' },
    });
  });
});

describe('unique jobs: insertAll', () => {
  it('returns a later duplicate in the same call as the first, with conflict: true, in order with plain jobs', async () => {
    const a = fresh();
    const b = fresh();
    const jobs = await koban.insertAll([
      newJob(ImportWorker, { importId: a }),
      newJob(PlainWorker, { n: 1 }),
      newJob(ImportWorker, { importId: b }),
      newJob(ImportWorker, { importId: a }),
      newJob(ImportWorker, { importId: a }),
      newJob(PlainWorker, { n: 2 }),
    ]);
    expect(jobs.map((job) => job.conflict)).toEqual([false, false, false, true, true, false]);
    expect(jobs[3]!.id).toBe(jobs[0]!.id);
    expect(jobs[4]!.id).toBe(jobs[0]!.id);
    expect(jobs[1]!.args).toEqual({ n: 1 });
    expect(jobs[5]!.args).toEqual({ n: 2 });
    const stored = (await rawJobs(url, 'ImportWorker')).filter((row) =>
      [a, b].includes((row.args as ImportArgs).importId),
    );
    expect(stored).toHaveLength(2);
  });

  it('meets an existing job and duplicates across chunks', async () => {
    const a = fresh();
    const existing = await koban.insert(newJob(ImportWorker, { importId: a }));
    const b = fresh();
    const jobs = await koban.insertAll(
      [
        newJob(ImportWorker, { importId: a }),
        newJob(ImportWorker, { importId: b }),
        newJob(ImportWorker, { importId: b }),
      ],
      { chunkSize: 2 },
    );
    expect(jobs[0]).toMatchObject({ id: existing.id, conflict: true });
    expect(jobs[1]!.conflict).toBe(false);
    expect(jobs[2]).toMatchObject({ id: jobs[1]!.id, conflict: true });
  });

  it('applies replace between duplicates of one call: the later values win', async () => {
    const n = fresh();
    const unique = { replace: ['priority'] as const };
    const jobs = await koban.insertAll([
      newJob(PlainWorker, { n }, { priority: 1, unique }),
      newJob(PlainWorker, { n }, { priority: 7, unique }),
    ]);
    expect(jobs[1]).toMatchObject({ id: jobs[0]!.id, conflict: true, priority: 7 });
  });
});

describe('unique jobs: option errors', () => {
  it('rejects bad per-insert options with a KobanValidationError naming the option', async () => {
    const bad = [
      [{ period: -1 }, /unique\.period must be a positive number/],
      [{ states: 'sometimes' }, /unique\.states: expected incomplete, scheduled, successful, all/],
      [{ states: ['available', 'done'] }, /unknown state done/],
      [{ fields: ['worker', 'args', 'priority'] }, /unknown field "priority"/],
      [{ replace: ['state'] }, /replace: unknown field "state"/],
      [{ replace: { waiting: ['args'] } }, /replace: unknown state "waiting"/],
      [{ keys: 'userId' }, /keys must be an array/],
    ] as const;
    for (const [unique, message] of bad) {
      const attempt = koban.insert(newJob(PlainWorker, { n: 1 }), { unique: unique as never });
      await expect(attempt).rejects.toThrow(KobanValidationError);
      await expect(attempt).rejects.toThrow(message);
    }
  });

  it('rejects a worker with bad unique options at start', async () => {
    await expect(startKoban({ database: url, queues: {}, workers: [BadUniqueWorker] })).rejects.toThrow(
      /worker BadUniqueWorker: unique\.period must be a positive number of seconds or 'infinity', got 0/,
    );
  });
});

describe('retrying unique jobs', () => {
  it('leaves a job whose key another job holds now, and retries it once the key is free', async () => {
    const importId = fresh();
    const first = await koban.insert(newJob(ImportWorker, { importId }));
    await setState(first.id, 'discarded');
    const second = await koban.insert(newJob(ImportWorker, { importId }));
    expect(second.conflict).toBe(false);

    // The discarded job would become a duplicate of the available one: it stays discarded.
    expect(await koban.retryJob(first.id)).toBe(false);
    expect((await koban.getJob(first.id))?.state).toBe('discarded');

    await setState(second.id, 'completed');
    expect(await koban.retryJob(first.id)).toBe(true);
    expect((await koban.getJob(first.id))?.state).toBe('available');
  });
});
