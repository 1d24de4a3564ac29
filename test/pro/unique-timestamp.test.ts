import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineWorker, type Job, Koban, KobanValidationError, newJob } from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { quietLogger } from '../support/wait.js';

// unique: { timestamp: 'scheduledAt' } counts the period from when the existing job is due, not
// from its insert (Oban's timestamp: :scheduled_at).

class ByInsert {
  async process(_job: Job<{ n: number }>) {}
}
defineWorker(ByInsert, { queue: 'unique_ts', unique: { period: 60 } });

class BySchedule {
  async process(_job: Job<{ n: number }>) {}
}
defineWorker(BySchedule, { queue: 'unique_ts', unique: { period: 60, timestamp: 'scheduledAt' } });

describe("unique with timestamp: 'scheduledAt'", () => {
  let url: string;
  let koban: Koban;
  beforeAll(async () => {
    url = await freshDatabase();
    koban = await Koban.start({
      database: url,
      logger: quietLogger,
      testing: 'manual',
      workers: [ByInsert, BySchedule],
    });
  });
  afterAll(() => koban.stop());

  /** Inserts a holder due in an hour, then ages its insert by two hours. */
  async function agedHolder(worker: typeof ByInsert | typeof BySchedule, n: number) {
    const holder = await koban.insert(newJob(worker, { n }), { scheduleIn: 3600 });
    await withSql(
      url,
      (sql) => sql`UPDATE koban.jobs SET inserted_at = now() - interval '2 hours' WHERE id = ${holder.id}`,
    );
    return holder;
  }

  it('a job due later blocks duplicates for the period after it is due, however long ago it was inserted', async () => {
    const bySchedule = await agedHolder(BySchedule, 1);
    const duplicate = await koban.insert(newJob(BySchedule, { n: 1 }));
    expect(duplicate).toMatchObject({ conflict: true, id: bySchedule.id });
    // By insert time (the default), the same holder is past its period and gives its key up.
    const byInsert = await agedHolder(ByInsert, 1);
    const fresh = await koban.insert(newJob(ByInsert, { n: 1 }));
    expect(fresh.conflict).toBe(false);
    expect(fresh.id).not.toBe(byInsert.id);
  });

  it('a holder due more than the period ago gives its key up', async () => {
    const holder = await koban.insert(newJob(BySchedule, { n: 2 }));
    await withSql(
      url,
      (sql) => sql`UPDATE koban.jobs SET scheduled_at = now() - interval '2 minutes' WHERE id = ${holder.id}`,
    );
    const next = await koban.insert(newJob(BySchedule, { n: 2 }));
    expect(next.conflict).toBe(false);
    // Per insert too: the insert's unique options may set it.
    const again = await koban.insert(newJob(ByInsert, { n: 3 }), {
      unique: { period: 60, timestamp: 'scheduledAt' },
    });
    expect(
      (await koban.insert(newJob(ByInsert, { n: 3 }), { unique: { period: 60, timestamp: 'scheduledAt' } }))
        .id,
    ).toBe(again.id);
  });

  it('refuses an unknown timestamp, naming the option', async () => {
    const bad = koban.insert(newJob(ByInsert, { n: 4 }), { unique: { timestamp: 'attemptedAt' as never } });
    await expect(bad).rejects.toThrow(KobanValidationError);
    await expect(
      koban.insert(newJob(ByInsert, { n: 4 }), { unique: { timestamp: 'attemptedAt' as never } }),
    ).rejects.toThrow("unique.timestamp must be 'insertedAt' or 'scheduledAt', got \"attemptedAt\"");
  });
});
