import { beforeAll, describe, expect, it } from 'vitest';
import {
  cancel,
  defineWorker,
  type Job,
  KobanConfigError,
  type LeadershipEvent,
  newJob,
} from '../../index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';
import { recordingLogger } from './support/logger.js';

class ExhaustedWorker {
  async process(_job: Job<{ secret: string }>) {
    throw new Error('card declined');
  }
}
defineWorker(ExhaustedWorker, { queue: 'logs', maxAttempts: 1 });

class RefusingWorker {
  async process(_job: Job<{ secret: string }>) {
    return cancel('customer left');
  }
}
defineWorker(RefusingWorker, { queue: 'logs' });

const secret = 'do-not-log-4111111111111111';
let url: string;

beforeAll(async () => {
  url = await freshDatabase();
});

describe('a node that says what it does', () => {
  it('logs its start, leadership, discarded and cancelled jobs (never args), and its stop', async () => {
    const logger = recordingLogger();
    const leadership: LeadershipEvent[] = [];
    const koban = await startKoban({
      database: url,
      node: 'logging-node',
      queues: { logs: 2 },
      workers: [ExhaustedWorker, RefusingWorker],
      logger,
      heartbeatInterval: 100,
      rescueAfter: 1000,
      blockTolerance: 500,
    });
    koban.on('node:leadership', (event) => leadership.push(event));
    const discarded = await koban.insert(newJob(ExhaustedWorker, { secret }));
    const cancelled = await koban.insert(newJob(RefusingWorker, { secret }));
    await waitFor('the cancel', async () => (await koban.getJob(cancelled.id))?.state === 'cancelled');
    await waitFor('the discard', async () => (await koban.getJob(discarded.id))?.state === 'discarded');
    await koban.stop();

    expect(logger.messages('info')).toEqual(
      expect.arrayContaining([
        'node logging-node started, running logs (2)',
        'node logging-node is the leader now',
        `job ${cancelled.id} (RefusingWorker) cancelled: cancelled: customer left`,
        'node logging-node is no longer the leader',
        expect.stringMatching(/^node logging-node stopped in \d+ ms$/),
      ]),
    );
    const discardLine = logger.lines.find((line) => line.message.startsWith(`job ${discarded.id} `));
    expect(discardLine).toEqual({
      level: 'warn',
      message: `job ${discarded.id} (ExhaustedWorker) discarded at attempt 1 of 1: Error: card declined`,
      details: {
        id: discarded.id,
        worker: 'ExhaustedWorker',
        queue: 'logs',
        attempt: 1,
        maxAttempts: 1,
        error: 'Error: card declined',
      },
    });
    expect(JSON.stringify(logger.lines)).not.toContain(secret);
    // Leadership was taken during start (before the listener) and given up at stop; on a busy
    // machine a lease may lapse and be taken again between the two, each change an event and a line.
    expect(leadership.at(-1)).toEqual({ node: 'logging-node', leader: false });
    const changes = leadership.map(({ leader }) => leader);
    expect(changes.every((leader, index) => index === 0 || leader !== changes[index - 1])).toBe(true);
    expect(
      logger.messages('info').filter((line) => line === 'node logging-node is the leader now'),
    ).toHaveLength(changes.filter(Boolean).length + 1);
  });

  it('logs the jobs the lifeline rescues from a node that stopped heartbeating', async () => {
    const database = await freshDatabase();
    const [orphan] = await withSql(
      database,
      (sql) => sql<{ id: string }[]>`
        INSERT INTO koban.jobs (worker, queue, state, attempt, attempted_at, attempted_by)
        VALUES ('GoneWorker', 'elsewhere', 'executing', 1, now() - interval '1 minute', '{vanished-node}')
        RETURNING id::text AS id`,
    );
    const logger = recordingLogger();
    const rescues: number[] = [];
    const koban = await startKoban({
      database,
      queues: {},
      logger,
      heartbeatInterval: 100,
      rescueAfter: 1000,
      blockTolerance: 500,
    });
    koban.on('node:rescue', ({ rescued }) => rescues.push(rescued));
    await waitFor('the rescue', async () => (await koban.getJob(orphan!.id))?.state === 'available');
    await waitFor('the rescue line', () =>
      logger.messages('warn').some((message) => message.startsWith('rescued')),
    );
    expect(logger.lines.filter((line) => line.message.startsWith('rescued'))).toEqual([
      {
        level: 'warn',
        message: 'rescued 1 executing job of nodes that stopped heartbeating or restarted',
        details: { node: koban.node, rescued: 1 },
      },
    ]);
  });

  it('drops the levels below logLevel, and refuses a bad logger or level at start', async () => {
    const logger = recordingLogger();
    const koban = await startKoban({
      database: url,
      queues: { logs: 1 },
      workers: [RefusingWorker],
      logger,
      logLevel: 'warn',
    });
    const job = await koban.insert(newJob(RefusingWorker, { secret }));
    await waitFor('the cancel', async () => (await koban.getJob(job.id))?.state === 'cancelled');
    await koban.stop();
    expect(logger.lines.filter((line) => line.level === 'info' || line.level === 'debug')).toEqual([]);

    await expect(startKoban({ database: url, logLevel: 'loud' as never })).rejects.toThrow(
      new KobanConfigError('logLevel: expected one of debug, info, warn, error, silent, got "loud"'),
    );
    await expect(startKoban({ database: url, logger: { info() {}, warn() {} } as never })).rejects.toThrow(
      /^logger: expected an object with info, warn and error methods \(and optionally debug\), as pino and console have; error is not a function$/,
    );
  });
});
