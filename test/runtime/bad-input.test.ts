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
} from '../../index.js';
import { databaseUrl, freshDatabase, withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { quietLogger, waitFor } from '../support/wait.js';

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
  it('cancels a job naming an unknown worker, naming it and the known ones', async () => {
    const id = await insertRaw('GhostWorker', '{"a":1}');
    const koban = await startKoban({
      database: url,
      queues: { bad: 1 },
      workers: [KnownWorker, CodecWorker],
    });
    const job = await settled(koban, id);
    expect(job.state).toBe('cancelled');
    expect(job.args).toEqual({ a: 1 });
    expect(job.errors).toHaveLength(1);
    const message = job.errors[0]!.error;
    expect(message).toContain('KobanUnknownWorkerError');
    expect(message).toContain('"GhostWorker"');
    expect(message).toContain('known: CodecWorker, KnownWorker');
    expect(job.cancelledAt).toBeInstanceOf(Date);
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
      'rescueAfter shorter than 3 heartbeats',
      { heartbeatInterval: 1000, rescueAfter: 2999 },
      /^rescueAfter: 2999 ms is too short for a heartbeatInterval of 1000 ms\. rescueAfter must be at least 3 × heartbeatInterval \(3000 ms\)/,
    ],
    [
      'rescueAfter shorter than the default heartbeats',
      { rescueAfter: 10_000 },
      /rescueAfter: 10000 ms is too short for a heartbeatInterval of 5000 ms.*run the jobs of live nodes twice/,
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
  it('accepts rescueAfter of exactly 3 heartbeats', async () => {
    const koban = await startKoban({ database: url, heartbeatInterval: 1000, rescueAfter: 3000, queues: {} });
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
    const rows = await withSql(url, (sql) => sql`SELECT count(*)::int AS n FROM koban.jobs`);
    expect(rows[0]!.n).toBe(0);
  });

  it('refuses malformed queue names in pause, resume and scale', async () => {
    const koban = await startKoban({ database: await freshDatabase(), queues: {} });
    await expect(koban.pauseQueue('bad name!')).rejects.toThrow(/pauseQueue: queue must be a name/);
    await expect(koban.resumeQueue('')).rejects.toThrow(/resumeQueue: queue must be a name/);
    await expect(koban.scaleQueue('bad name!', 2)).rejects.toThrow(/scaleQueue: queue must be a name/);
  });
});

describe('workers whose queue no node runs', () => {
  function capturingLogger() {
    const warnings: string[] = [];
    const logger: KobanLogger = { info() {}, error() {}, warn: (message) => warnings.push(message) };
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
