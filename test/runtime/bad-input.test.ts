import { beforeAll, describe, expect, it } from 'vitest';
import {
  type Codec,
  defineWorker,
  type Job,
  Koban,
  type KobanConfig,
  KobanConfigError,
  KobanDatabaseError,
  type KobanLogger,
  KobanValidationError,
  newJob,
} from '../../index.js';
import { databaseUrl, freshDatabase, withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { logText, quietLogger, waitFor } from '../support/wait.js';

let processed = 0;

class KnownWorker {
  async process(_job: Job) {
    processed++;
  }
}
defineWorker(KnownWorker, { queue: 'bad' });

interface Order {
  orderId: number;
}
class CodecWorker {
  async process(_job: Job<Order>) {
    processed++;
  }
}
defineWorker(CodecWorker, { queue: 'bad' });

const orderCodec: Codec<Order> = {
  encode: (value) => value,
  decode(data) {
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw new KobanValidationError(
        [{ path: 'args', message: `expected an object, got ${JSON.stringify(data)}` }],
        'CodecWorker',
      );
    }
    const { orderId } = data as { orderId?: unknown };
    if (typeof orderId !== 'number') {
      throw new KobanValidationError(
        [{ path: 'args.orderId', message: `expected number, got ${typeof orderId}` }],
        'CodecWorker',
      );
    }
    return { orderId };
  },
};

class OrphanWorker {
  async process(_job: Job) {}
}
defineWorker(OrphanWorker, { queue: 'nowhere' });

let url: string;
beforeAll(async () => {
  url = await freshDatabase();
});

async function insertRaw(worker: string, args: string): Promise<string> {
  return withSql(url, async (sql) => {
    const [row] = await sql<{ id: string }[]>`
      INSERT INTO koban.jobs (worker, queue, args) VALUES (${worker}, 'bad', ${args}::text::jsonb) RETURNING id`;
    return String(row!.id);
  });
}

async function settled(koban: Koban, id: string) {
  return waitFor(`job ${id} to settle`, async () => {
    const job = await koban.getJob(id);
    return job && !['available', 'executing'].includes(job.state) ? job : null;
  });
}

async function startError(config: KobanConfig): Promise<Error> {
  const error = await Koban.start({ logger: quietLogger, ...config }).then(
    async (koban) => {
      await koban.stop();
      throw new Error('Koban.start should have failed');
    },
    (caught: unknown) => caught as Error,
  );
  return error;
}

describe('stored jobs this node cannot run', () => {
  it('gives a job of an unknown worker back to the queue, attempt refunded, naming it and the known ones', async () => {
    const id = await insertRaw('GhostWorker', '{"a":1}');
    const koban = await startKoban({
      database: url,
      queues: { bad: 1 },
      workers: [KnownWorker, CodecWorker],
      node: 'ghostless',
    });
    const job = await settled(koban, id);
    // Never cancelled or discarded: a node that runs the worker will take it.
    expect(job.state).toBe('scheduled');
    expect(job.attempt).toBe(0);
    expect(job.scheduledAt.getTime()).toBeGreaterThan(Date.now());
    expect(job.args).toEqual({ a: 1 });
    expect(job.errors).toHaveLength(1);
    const message = job.errors[0]!.error;
    expect(message).toContain('KobanUnknownWorkerError');
    expect(message).toContain('"GhostWorker" runs on node ghostless');
    expect(message).toContain('it runs: CodecWorker, KnownWorker');
    expect(job.cancelledAt).toBeNull();
  });

  it('cancels a job whose stored args fail the worker codec, recording the validation error', async () => {
    const koban = await startKoban({
      database: url,
      queues: { bad: 1 },
      workers: [KnownWorker, { worker: CodecWorker, args: orderCodec }],
    });
    const before = processed;
    const notObject = await insertRaw('CodecWorker', '[1, 2]');
    const wrongType = await insertRaw('CodecWorker', '{"orderId": "7"}');
    const fine = await insertRaw('CodecWorker', '{"orderId": 7}');
    for (const [id, expected] of [
      [notObject, 'KobanValidationError: args: expected an object, got [1,2] (CodecWorker)'],
      [wrongType, 'KobanValidationError: args.orderId: expected number, got string (CodecWorker)'],
    ] as const) {
      const job = await settled(koban, id);
      expect(job.state).toBe('cancelled');
      expect(job.attempt).toBe(1);
      expect(job.errors.map((error) => error.error)).toEqual([expected]);
    }
    expect((await settled(koban, fine)).state).toBe('completed');
    expect(processed).toBe(before + 1);
  });
});

describe('database configuration errors', () => {
  it('says how to start a server when nothing listens', async () => {
    const error = await startError({ database: 'postgres://postgres@127.0.0.1:5999/x' });
    expect(error).toBeInstanceOf(KobanDatabaseError);
    expect(error.message).toContain('cannot reach PostgreSQL at postgres://postgres@127.0.0.1:5999/x');
    expect(error.message).toMatch(/Start PostgreSQL/);
    expect(error.message).toMatch(/leave out `database`/);
  });

  it('says createdb when the database does not exist', async () => {
    const name = `koban_missing_${Date.now()}`;
    const error = await startError({ database: databaseUrl(name) });
    expect(error).toBeInstanceOf(KobanDatabaseError);
    expect(error.message).toContain(`createdb ${name}`);
  });

  it('refuses URLs of other databases, hiding the password', async () => {
    const error = await startError({ database: 'mysql://app:s3cret@localhost/app' });
    expect(error).toBeInstanceOf(KobanConfigError);
    expect(error.message).toContain('postgres://');
    expect(error.message).not.toContain('s3cret');
  });

  it('refuses values that are not databases', async () => {
    for (const [database, described] of [
      [42, 'got number'],
      [{ query: 1 }, 'got an object with keys [query]'],
    ] as const) {
      const error = await startError({ database: database as never });
      expect(error).toBeInstanceOf(KobanConfigError);
      expect(error.message).toContain(described);
    }
  });

  it('hides the password of a URL it cannot reach', async () => {
    const error = await startError({ database: 'postgres://postgres:hunter2@127.0.0.1:5999/x' });
    expect(error.message).not.toContain('hunter2');
  });
});

describe('bad node configuration', () => {
  it.each([
    [
      'queues: { default: 0 }',
      { queues: { default: 0 } },
      /queues\.default: limit must be a positive integer/,
    ],
    ['queues: { default: { limit: 2.5 } }', { queues: { default: { limit: 2.5 } } }, /queues\.default/],
    ['a queue name with a space', { queues: { 'bad name': 1 } }, /queue must be a name.*"bad name"/],
    ['schema with capitals', { schema: 'Tenant' }, /schema: expected a lower-case identifier/],
    ['schema with SQL in it', { schema: 'x; drop schema koban' }, /schema:/],
    ['pollInterval 0', { pollInterval: 0 }, /pollInterval/],
    [
      'rescueAfter shorter than 3 heartbeats and the block tolerance',
      { heartbeatInterval: 1000, blockTolerance: 2000, rescueAfter: 4999 },
      /^rescueAfter: 4999 ms is too short for a heartbeatInterval of 1000 ms and a blockTolerance of 2000 ms\. rescueAfter must be at least 3 × heartbeatInterval \+ blockTolerance \(5000 ms\)/,
    ],
    [
      'rescueAfter of 3 heartbeats, which leaves no room for the default block tolerance',
      { heartbeatInterval: 1000, rescueAfter: 3000 },
      /rescueAfter: 3000 ms is too short for a heartbeatInterval of 1000 ms and a blockTolerance of 5000 ms\..*\(8000 ms\).*blocks its event loop.*run the jobs of live nodes twice/,
    ],
    [
      'rescueAfter shorter than the default heartbeats',
      { rescueAfter: 10_000 },
      /rescueAfter: 10000 ms is too short for a heartbeatInterval of 5000 ms and a blockTolerance of 5000 ms.*\(20000 ms\)/,
    ],
    [
      'a negative blockTolerance',
      { blockTolerance: -1 },
      /^blockTolerance: expected a number of at least 0, got -1/,
    ],
  ])('refuses %s before connecting', async (_name, config, message) => {
    // An unreachable server: the config error must come first, without a connection attempt.
    const error = await startError({
      database: 'postgres://postgres@127.0.0.1:5999/x',
      ...config,
    } as KobanConfig);
    expect(error).toBeInstanceOf(KobanConfigError);
    expect(error.message).toMatch(message);
  });
});

describe('rescue timing', () => {
  it('accepts rescueAfter of exactly 3 heartbeats and the block tolerance', async () => {
    const koban = await startKoban({
      database: url,
      heartbeatInterval: 1000,
      blockTolerance: 2000,
      rescueAfter: 5000,
      queues: {},
    });
    expect(koban.node).toBeTruthy();
  });

  it('lengthens the default rescueAfter to cover long heartbeat intervals', async () => {
    const koban = await startKoban({ database: url, heartbeatInterval: 20_000, queues: {} });
    expect(koban.node).toBeTruthy();
  });
});

describe('bad calls on a running node', () => {
  it('refuses to insert something that is not a job, saying what to pass, and writes nothing', async () => {
    const url = await freshDatabase();
    const koban = await startKoban({ database: url, queues: {} });
    const error = (await koban.insert({} as never).catch((caught: unknown) => caught)) as Error;
    expect(error).toBeInstanceOf(KobanValidationError);
    expect(error.message).toMatch(
      /^job: expected a job built by MyWorker\.new\(args\) or newJob\(MyWorker, args\)/,
    );
    const rows = await withSql(url, (sql) => sql`SELECT count(*)::int AS n FROM koban.all_jobs`);
    expect(rows[0]!.n).toBe(0);
  });

  it('refuses malformed queue names in pause, resume and scale', async () => {
    const koban = await startKoban({ database: await freshDatabase(), queues: {} });
    await expect(koban.pauseQueue('bad name!')).rejects.toThrow(/pauseQueue: queue must be a name/);
    await expect(koban.resumeQueue('')).rejects.toThrow(/resumeQueue: queue must be a name/);
    await expect(koban.scaleQueue('bad name!', 2)).rejects.toThrow(/scaleQueue: queue must be a name/);
  });
});

describe('values the database would refuse or change (issue 11, defect 8)', () => {
  class TaggedWorker {
    async process(_job: Job<{ n?: number; a?: unknown }>) {}
  }
  defineWorker(TaggedWorker, { queue: 'bad' });

  async function rejection(work: () => Promise<unknown> | unknown): Promise<Error> {
    try {
      await work();
    } catch (error) {
      return error as Error;
    }
    throw new Error('expected a rejection');
  }

  function nested(depth: number): Record<string, unknown> {
    let value: Record<string, unknown> = { leaf: 1 };
    for (let level = 0; level < depth; level++) value = { a: value };
    return value;
  }

  async function jobCount(database: string): Promise<number> {
    return withSql(database, async (sql) => (await sql`SELECT count(*)::int AS n FROM koban.all_jobs`)[0]!.n);
  }

  it('refuses a tag with NUL or a lone surrogate, naming the tag, and writes nothing', async () => {
    const database = await freshDatabase();
    const koban = await startKoban({ database, queues: {} });
    const nul = await rejection(() => koban.insert(newJob(TaggedWorker, {}), { tags: ['ok', 'a\u0000b'] }));
    // A bad option of a call is the caller's mistake: a validation error, as bad args are.
    expect(nul).toBeInstanceOf(KobanValidationError);
    expect(nul.message).toBe(
      'insert TaggedWorker: tags[1] contains a NUL character (U+0000), which PostgreSQL cannot store, got "a\\u0000b"',
    );
    const surrogate = await rejection(() => koban.insert(newJob(TaggedWorker, {}), { tags: ['\ud800x'] }));
    expect(surrogate).toBeInstanceOf(KobanValidationError);
    expect(surrogate.message).toMatch(/^insert TaggedWorker: tags\[0\] contains a lone surrogate/);
    expect(await jobCount(database)).toBe(0);
    class SurrogateTagWorker {
      async process() {}
    }
    expect(() => defineWorker(SurrogateTagWorker, { tags: ['\udc00'] })).toThrow(
      /^worker SurrogateTagWorker: tags\[0\] contains a lone surrogate/,
    );
  });

  it('refuses maxAttempts past the integer column, at insert and on the worker', async () => {
    const database = await freshDatabase();
    const koban = await startKoban({ database, queues: {} });
    const error = await rejection(() => koban.insert(newJob(TaggedWorker, {}), { maxAttempts: 2 ** 31 }));
    expect(error).toBeInstanceOf(KobanValidationError);
    expect(error.message).toBe(
      'insert TaggedWorker: maxAttempts must be an integer from 1 to 2147483647, got 2147483648',
    );
    class HugeAttemptsWorker {
      async process() {}
    }
    expect(() => defineWorker(HugeAttemptsWorker, { maxAttempts: 2 ** 31 })).toThrow(/maxAttempts must be/);
    const [job] = await koban.insertAll([newJob(TaggedWorker, {}, { maxAttempts: 2 ** 31 - 1 })]);
    expect(job!.maxAttempts).toBe(2 ** 31 - 1);
  });

  it('refuses a worker name over 255 characters in defineWorker, and takes one of 255', async () => {
    const long = 'W'.repeat(256);
    class LongNameWorker {
      async process() {}
    }
    expect(() => defineWorker(LongNameWorker, { name: long })).toThrow(
      /^worker LongNameWorker: the worker name is 256 characters long; at most 255 fit in the jobs table/,
    );
    const LongClass = {
      [long]: class {
        async process() {}
      },
    }[long]!;
    expect(() => defineWorker(LongClass)).toThrow(KobanConfigError);
    class FitsWorker {
      async process() {}
    }
    defineWorker(FitsWorker, { name: `${'é'.repeat(254)}W`, queue: 'bad' });
    const koban = await startKoban({ database: await freshDatabase(), queues: {}, workers: [FitsWorker] });
    expect((await koban.insert(newJob(FitsWorker, {}))).worker).toHaveLength(255);
  });

  it('refuses args or meta nested 5,000 deep with a validation error, not a stack overflow', async () => {
    const database = await freshDatabase();
    const koban = await startKoban({
      database,
      queues: {},
      workers: [TaggedWorker, { worker: CodecWorker, args: orderCodec }],
    });
    for (const [attempt, path] of [
      [() => koban.insert(newJob(TaggedWorker, { a: nested(5000) })), 'args'],
      [() => koban.insert(newJob(TaggedWorker, {}), { meta: nested(5000) }), 'meta'],
      [() => koban.insert(newJob(CodecWorker, nested(5000) as never)), 'args'],
    ] as const) {
      const error = await rejection(attempt);
      expect(error).toBeInstanceOf(KobanValidationError);
      expect((error as KobanValidationError).issues).toEqual([
        { path, message: expect.stringMatching(/^nested deeper than 1000 levels of arrays and objects/) },
      ]);
    }
    expect(await jobCount(database)).toBe(0);
    const fits = await koban.insert(newJob(TaggedWorker, { a: nested(900) }));
    expect((await koban.getJob(fits.id))?.args).toEqual({ a: nested(900) });
  });

  it('refuses a scheduledAt outside the years 1970 to 9999', async () => {
    const koban = await startKoban({ database: await freshDatabase(), queues: {} });
    for (const [at, shown] of [
      [new Date(Date.UTC(-5000, 0, 1)), '-005000-01-01T00:00:00.000Z'],
      [new Date('0001-01-01T00:00:00Z'), '0001-01-01T00:00:00.000Z'],
      [new Date('1969-12-31T23:59:59Z'), '1969-12-31T23:59:59.000Z'],
      [new Date('+010000-01-01T00:00:00Z'), '+010000-01-01T00:00:00.000Z'],
    ] as const) {
      const error = await rejection(() => koban.insert(newJob(TaggedWorker, {}), { scheduledAt: at }));
      expect(error).toBeInstanceOf(KobanValidationError);
      expect(error.message).toBe(
        `options.scheduledAt: ${shown} is outside the years 1970 to 9999 (insert TaggedWorker)`,
      );
    }
    const error = await rejection(() => koban.insert(newJob(TaggedWorker, {}), { scheduleIn: 1e15 }));
    expect(error.message).toMatch(/^options\.scheduleIn: the time is outside the years 1970 to 9999/);
    const early = await koban.insert(newJob(TaggedWorker, {}), { scheduledAt: new Date(0) });
    expect((await koban.getJob(early.id))?.scheduledAt).toEqual(new Date(0));
  });

  it('refuses a timeout that Node timers would cut to 1 ms', () => {
    class SlowWorker {
      async process() {}
    }
    expect(() => defineWorker(SlowWorker, { timeout: 2 ** 31 })).toThrow(
      /^worker SlowWorker: timeout must be a positive number of milliseconds up to 2147483647/,
    );
  });

  it('refuses a URL whose port is not a number, before connecting and without its password', async () => {
    const error = await startError({ database: 'postgres://app:hunter2@127.0.0.1:abc/x' });
    expect(error).toBeInstanceOf(KobanConfigError);
    expect(error.message).toBe(
      'database: the port "abc" in postgres://app:***@127.0.0.1:abc/x is not a number from 1 to 65535',
    );
  });

  it('takes ?password= as the password, as libpq does, and never shows it', async () => {
    const unreachable = await startError({
      database: 'postgres://postgres@127.0.0.1:5999/x?password=hunter2',
    });
    expect(unreachable).toBeInstanceOf(KobanDatabaseError);
    expect(unreachable.message).toContain('postgres://postgres@127.0.0.1:5999/x?password=***');
    expect(unreachable.message).not.toContain('hunter2');
    const missing = await startError({ database: `${databaseUrl('koban_no_such_db')}?password=hunter2` });
    expect(missing.message).not.toContain('hunter2');
    // The server trusts local logins, so any password works once it is not sent as a setting.
    const koban = await startKoban({ database: `${await freshDatabase()}?password=hunter2`, queues: {} });
    expect(await koban.listJobs()).toEqual([]);
  });
});

describe('workers whose queue no node runs', () => {
  function capturingLogger() {
    const warnings: string[] = [];
    const logger: KobanLogger = {
      info() {},
      error() {},
      warn: (details, message) => warnings.push(logText(details, message)),
    };
    return { logger, warnings };
  }

  it('logs one warning naming the worker and its queue', async () => {
    const { logger, warnings } = capturingLogger();
    await startKoban({
      database: await freshDatabase(),
      queues: { bad: 1 },
      workers: [KnownWorker, OrphanWorker],
      logger,
    });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('OrphanWorker (queue "nowhere")');
    expect(warnings[0]).not.toContain('KnownWorker');
  });

  it('stays quiet when every worker has a running queue', async () => {
    const { logger, warnings } = capturingLogger();
    await startKoban({ database: await freshDatabase(), queues: { bad: 1 }, workers: [KnownWorker], logger });
    expect(warnings).toEqual([]);
  });
});
