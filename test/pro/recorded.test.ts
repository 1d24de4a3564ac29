import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import {
  type Codec,
  Encrypted,
  type Job,
  type JobBuilder,
  KobanConfigError,
  KobanValidationError,
  newJob,
  Recorded,
  type RecordedFetcher,
  type RecordedValue,
  snooze,
  Worker,
} from '../../index.js';
import { freshDatabase } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { exec, rawJob, settled } from './support.js';

@Worker({ queue: 'rec' })
@Recorded()
class ExtractWorker {
  async process(job: Job<{ dataId: number }>): Promise<{ rows: number }> {
    return { rows: job.args.dataId * 3 };
  }
}

type Event = { at: Date; label: string };

@Worker({ queue: 'rec' })
@Recorded()
class EventWorker {
  async process(job: Job<{ label: string }>): Promise<Event> {
    return { at: new Date('2025-03-04T05:06:07.000Z'), label: job.args.label };
  }
}

/** What `npx gen` writes for EventWorker's result, by hand: Date ⇄ ISO text, checked on the way back. */
const eventCodec: Codec<Event> = {
  encode: (value) => ({ at: value.at.toISOString(), label: value.label }),
  decode: (data) => {
    const stored = data as { at?: unknown; label?: unknown };
    if (typeof stored.at !== 'string' || typeof stored.label !== 'string') {
      throw new KobanValidationError([{ path: 'result', message: 'expected { at, label }' }], 'EventWorker');
    }
    return { at: new Date(stored.at), label: stored.label };
  },
};

@Worker({ queue: 'rec', maxAttempts: 1 })
@Recorded()
class DateWithoutCodecWorker {
  async process(_job: Job<{ n: number }>) {
    return { at: new Date() };
  }
}

@Worker({ queue: 'rec', maxAttempts: 1 })
@Recorded({ limit: 1024 })
class LimitWorker {
  async process(job: Job<{ bytes: number }>) {
    return { noise: randomBytes(job.args.bytes).toString('base64') };
  }
}

@Worker({ queue: 'rec' })
@Recorded()
class BigWorker {
  async process(job: Job<{ repeat: number }>) {
    return {
      lines: Array.from({ length: job.args.repeat }, (_, n) => `line ${n % 10}: the same words again`),
    };
  }
}

@Worker({ queue: 'rec' })
@Recorded()
class VoidWorker {
  async process(job: Job<{ snooze: boolean }>) {
    if (job.args.snooze) return snooze(3600);
  }
}

@Worker({ queue: 'rec' })
class PlainWorker {
  async process(_job: Job<{ n: number }>) {
    return { ignored: true };
  }
}

const SECRET = 'recorded-SECRET-4711';
const secretKey = randomBytes(32);

@Worker({ queue: 'rec' })
@Recorded({ encrypted: true })
@Encrypted({ key: () => secretKey })
class SecretResultWorker {
  async process(_job: Job<{ n: number }>) {
    return { token: SECRET };
  }
}

@Worker({ queue: 'rec' })
@Recorded({ encrypted: true })
class RecordedWithoutKeysWorker {
  async process(_job: Job<{ n: number }>) {
    return 1;
  }
}

const workers = [
  ExtractWorker,
  { worker: EventWorker, result: eventCodec },
  DateWithoutCodecWorker,
  LimitWorker,
  BigWorker,
  VoidWorker,
  PlainWorker,
  SecretResultWorker,
];
let url: string;

beforeAll(async () => {
  url = await freshDatabase();
});

const start = (queues: Record<string, number> = { rec: 4 }) => startKoban({ database: url, queues, workers });

describe('@Recorded', () => {
  it('stores the value with the completed job; fetchRecorded is typed from the inserted job', async () => {
    const koban = await start();
    const inserted = await koban.insert(newJob(ExtractWorker, { dataId: 7 }));
    await settled(koban, inserted.id);
    const recorded = await koban.fetchRecorded(inserted);
    expectTypeOf(recorded).toEqualTypeOf<RecordedValue<{ rows: number }>>();
    expect(recorded).toEqual({ status: 'ok', value: { rows: 21 } });
    expect(await koban.fetchRecorded(inserted.id)).toEqual({ status: 'ok', value: { rows: 21 } });
  });

  it('decodes with the result codec: a Date comes back as a Date', async () => {
    const koban = await start();
    const inserted = await koban.insert(newJob(EventWorker, { label: 'x' }));
    await settled(koban, inserted.id);
    const recorded = await koban.fetchRecorded(inserted);
    if (recorded.status !== 'ok') throw new Error(recorded.message);
    expect(recorded.value.at).toBeInstanceOf(Date);
    expect(recorded.value).toEqual({ at: new Date('2025-03-04T05:06:07.000Z'), label: 'x' });
  });

  it('works as the generated builder will use it, through RecordedReader with the codec passed in', async () => {
    // What `npx gen` emits for a @Recorded worker's builder, by hand.
    const EventBuilder: JobBuilder<typeof EventWorker> & RecordedFetcher<Event> = {
      worker: EventWorker,
      codec: { encode: (value) => value, decode: (data) => data as { label: string } },
      new: (args, options = {}) => newJob(EventWorker, args, options),
      fetchRecorded(reader, job) {
        return reader.fetchRecorded<Event>(job, { codec: eventCodec });
      },
    };
    const runner = await start();
    const inserted = await runner.insert(newJob(EventWorker, { label: 'builder' }));
    await settled(runner, inserted.id);
    // A node started without the codecs (insert-only, plain classes) still gets a Date back.
    const bare = await startKoban({ database: url, queues: {}, workers: [EventWorker] });
    const recorded = await EventBuilder.fetchRecorded(bare, inserted.id);
    expect(recorded).toEqual({
      status: 'ok',
      value: { at: new Date('2025-03-04T05:06:07.000Z'), label: 'builder' },
    });
    // Without a codec the stored JSON comes back as it is.
    expect(await bare.fetchRecorded(inserted.id)).toEqual({
      status: 'ok',
      value: { at: '2025-03-04T05:06:07.000Z', label: 'builder' },
    });
  });

  it('completes, without running process again, a job whose value without a result codec is not plain JSON', async () => {
    const koban = await start();
    const inserted = await koban.insert(newJob(DateWithoutCodecWorker, { n: 1 }));
    const done = await settled(koban, inserted.id);
    // process may have had side effects: a retry would repeat them.
    expect(done).toMatchObject({ state: 'completed', attempt: 1, errors: [] });
    const recorded = await koban.fetchRecorded(inserted);
    expect(recorded).toMatchObject({ status: 'missing', reason: 'not_storable' });
    expect(recorded.status === 'missing' && recorded.message).toBe(
      `job ${inserted.id} (DateWithoutCodecWorker) completed, but its value could not be stored: ` +
        "KobanValidationError: result.at: a Date instance is not plain JSON; return an ISO string, or list the worker's " +
        'generated entry (from npx gen) in Koban.start({ workers }): its result codec stores Date values (DateWithoutCodecWorker)',
    );
  });

  it('gives a clear missing result: not found, not completed, not recorded', async () => {
    const koban = await start({});
    expect(await koban.fetchRecorded('999999999')).toMatchObject({ status: 'missing', reason: 'not_found' });
    const waiting = await koban.insert(newJob(ExtractWorker, { dataId: 1 }));
    expect(await koban.fetchRecorded(waiting)).toEqual({
      status: 'missing',
      reason: 'not_completed',
      message: `job ${waiting.id} (ExtractWorker) is available; a value is recorded when it completes`,
    });
    const runner = await start();
    const plain = await runner.insert(newJob(PlainWorker, { n: 1 }));
    await settled(runner, plain.id);
    expect((await rawJob(url, plain.id)).recorded).toBeNull();
    expect(await runner.fetchRecorded(plain)).toMatchObject({ status: 'missing', reason: 'not_recorded' });
  });

  it('records undefined for a process that returns nothing, and nothing for a snooze', async () => {
    const koban = await start();
    const returned = await koban.insert(newJob(VoidWorker, { snooze: false }));
    const snoozed = await koban.insert(newJob(VoidWorker, { snooze: true }));
    await settled(koban, returned.id);
    expect((await settled(koban, snoozed.id)).state).toBe('scheduled');
    expect(await koban.fetchRecorded(returned)).toEqual({ status: 'ok', value: undefined });
    expect(await koban.fetchRecorded(snoozed)).toMatchObject({ status: 'missing', reason: 'not_completed' });
  });

  it('compresses large values: the stored bytes are fewer than the JSON, and the value round-trips', async () => {
    const koban = await start();
    const inserted = await koban.insert(newJob(BigWorker, { repeat: 5000 }));
    expect((await settled(koban, inserted.id)).state).toBe('completed');
    const recorded = await koban.fetchRecorded(inserted);
    if (recorded.status !== 'ok') throw new Error(recorded.message);
    const json = Buffer.byteLength(JSON.stringify(recorded.value));
    expect(json).toBeGreaterThan(64 * 1024); // over the default limit before compression
    const [row] = (await exec(
      url,
      'SELECT octet_length(recorded) AS bytes FROM koban.all_jobs WHERE id = $1',
      [inserted.id],
    )) as { bytes: number }[];
    expect(row!.bytes).toBeLessThan(json / 10);
    expect((recorded.value as { lines: string[] }).lines[4999]).toBe('line 9: the same words again');
  });

  it('completes a job whose value is over the limit after compression, and says why it has none', async () => {
    const koban = await start();
    const small = await koban.insert(newJob(LimitWorker, { bytes: 100 }));
    const large = await koban.insert(newJob(LimitWorker, { bytes: 4000 }));
    expect((await settled(koban, small.id)).state).toBe('completed');
    expect(await settled(koban, large.id)).toMatchObject({ state: 'completed', attempt: 1 });
    const recorded = await koban.fetchRecorded(large);
    expect(recorded).toMatchObject({ status: 'missing', reason: 'not_storable' });
    expect(recorded.status === 'missing' && recorded.message).toMatch(
      /KobanRecordedLimitError: LimitWorker returned a value of \d+ bytes after compression, over its @Recorded limit of 1024 bytes/,
    );
  });

  it('encrypts the value with the worker keys when asked: no byte of it is stored in clear', async () => {
    const koban = await start();
    const inserted = await koban.insert(newJob(SecretResultWorker, { n: 1 }));
    await settled(koban, inserted.id);
    const raw = await rawJob(url, inserted.id);
    expect(raw.recorded).not.toBeNull();
    expect(raw.recorded!.toString('latin1')).not.toContain(SECRET);
    expect(raw.recorded!.toString('latin1')).not.toContain('token');
    expect(await koban.fetchRecorded(inserted)).toEqual({ status: 'ok', value: { token: SECRET } });
  });

  it('refuses @Recorded({ encrypted: true }) without @Encrypted at start', async () => {
    const starting = startKoban({ database: url, queues: {}, workers: [RecordedWithoutKeysWorker] });
    await expect(starting).rejects.toThrow(KobanConfigError);
    await expect(starting).rejects.toThrow(
      /RecordedWithoutKeysWorker @Recorded\(\{ encrypted: true \}\) needs the worker's keys/,
    );
  });
});
