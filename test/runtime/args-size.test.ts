import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  defineWorker,
  type Job,
  Koban,
  KobanConfigError,
  KobanValidationError,
  newJob,
} from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { quietLogger } from '../support/wait.js';

// Oversized args used to fail slowly and unclearly: a gigabyte with `RangeError: Invalid string
// length` after 4.4 s, 300 MB with PostgresError(54000) after 9.5 s. They are refused at once
// now, over a configurable limit, with an error that names the worker and the size.

class PayloadWorker {
  async process(_job: Job<{ parts: string[] }>) {}
}
defineWorker(PayloadWorker, { queue: 'payloads' });

const megabyte = 'x'.repeat(1024 * 1024);
/** Args of `count` MiB as JSON that take one MiB of memory: the same string, `count` times. */
const payload = (count: number) => ({ parts: Array.from({ length: count }, () => megabyte) });

let url: string;
let koban: Koban;
beforeAll(async () => {
  url = await freshDatabase();
  koban = await Koban.start({ database: url, queues: {}, workers: [PayloadWorker], logger: quietLogger });
});
afterAll(() => koban.stop());

async function refusal(insert: Promise<unknown>) {
  const started = performance.now();
  const error = await insert.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  return { error, ms: performance.now() - started };
}

const jobCount = () =>
  withSql(url, async (sql) => (await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM koban.jobs`)[0]!.n);

describe('args over maxArgsBytes', () => {
  it.each([
    ['a gigabyte', 1024],
    ['300 MB', 300],
    ['just over the default 8 MiB', 8],
  ])(
    '%s is refused at once with a KobanValidationError naming the worker and the size',
    async (_name, mib) => {
      const { error, ms } = await refusal(koban.insert(newJob(PayloadWorker, payload(mib))));
      expect(error).toBeInstanceOf(KobanValidationError);
      expect((error as KobanValidationError).worker).toBe('PayloadWorker');
      expect((error as Error).message).toMatch(
        /^args: (more than )?\d+ bytes as JSON, over the limit of 8388608 bytes \(maxArgsBytes/,
      );
      expect(ms).toBeLessThan(1000);
      expect(await jobCount()).toBe(0);
    },
  );

  it('one oversized job in insertAll refuses the whole call and writes nothing', async () => {
    const jobs = [newJob(PayloadWorker, payload(1)), newJob(PayloadWorker, payload(20))];
    const { error } = await refusal(koban.insertAll(jobs));
    expect(error).toBeInstanceOf(KobanValidationError);
    expect(await jobCount()).toBe(0);
  });

  it('args under the limit are stored and come back whole', async () => {
    const job = await koban.insert(newJob(PayloadWorker, payload(7)));
    const stored = await koban.getJob(job.id);
    expect((stored!.args as { parts: string[] }).parts.join('').length).toBe(7 * 1024 * 1024);
  });

  it('the limit is configurable, counts UTF-8 bytes, and is checked at start', async () => {
    const small = await Koban.start({
      database: url,
      queues: {},
      workers: [PayloadWorker],
      logger: quietLogger,
      maxArgsBytes: 1000,
    });
    try {
      // 400 characters of three bytes each: 1,200 bytes as JSON.
      const { error } = await refusal(small.insert(newJob(PayloadWorker, { parts: ['€'.repeat(400)] })));
      expect((error as Error).message).toContain('args: 1214 bytes as JSON, over the limit of 1000 bytes');
      await small.insert(newJob(PayloadWorker, { parts: ['€'.repeat(300)] }));
    } finally {
      await small.stop();
    }
    await expect(Koban.start({ database: url, maxArgsBytes: 0, logger: quietLogger })).rejects.toThrow(
      KobanConfigError,
    );
  });
});
