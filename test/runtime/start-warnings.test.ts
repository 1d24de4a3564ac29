import { describe, expect, it } from 'vitest';
import {
  type Codec,
  defineWorker,
  type Job,
  KobanConfigError,
  type KobanLogger,
  KobanValidationError,
} from '../../index.js';
import { workerContract } from '../../sdk/worker-contract.js';
import { freshDatabase } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { logText } from '../support/wait.js';

class ReportWorker {
  async process(_job: Job<{ day: string }>) {}
}
defineWorker(ReportWorker, { queue: 'reports' });

/** A logger that keeps its warnings. */
function recordingLogger(): KobanLogger & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    warnings,
    info() {},
    warn: (details, message) => warnings.push(logText(details, message)),
    error() {},
  };
}

describe('warnings at start', () => {
  it('says nothing about unrun queues when the node deliberately runs none (queues: {})', async () => {
    const logger = recordingLogger();
    await startKoban({ database: await freshDatabase(), queues: {}, workers: [ReportWorker], logger });
    expect(logger.warnings).toEqual([]);
  });

  it('still warns when a node runs queues but none runs the queue of a worker', async () => {
    const logger = recordingLogger();
    await startKoban({
      database: await freshDatabase(),
      queues: { other: 1 },
      workers: [ReportWorker],
      logger,
    });
    expect(logger.warnings).toEqual([
      'no running node runs the queue of ReportWorker (queue "reports"); their jobs wait until a node starts that queue',
    ]);
  });
});

/** What `npx gen` would write for ReportWorker's args. */
const reportArgs: Codec<{ day: string }> = {
  encode(value) {
    if (typeof value.day !== 'string') {
      throw new KobanValidationError(
        [{ path: 'args.day', message: `expected string, got ${typeof value.day}` }],
        'ReportWorker',
      );
    }
    return value;
  },
  decode: (data) => data as { day: string },
};

describe('cron args at start', () => {
  it('fail Koban.start with the entry and the issue, before any tick', async () => {
    const start = startKoban({
      database: await freshDatabase(),
      queues: {},
      workers: [{ worker: ReportWorker, args: reportArgs }],
      cron: [
        { expression: '0 6 * * *', worker: ReportWorker, args: { day: 'monday' } },
        { expression: '0 7 * * *', worker: ReportWorker, args: { day: 7 } as never, name: 'weekly' },
      ],
    });
    await expect(start).rejects.toThrow(KobanConfigError);
    await expect(start).rejects.toThrow(
      'cron[1] ("weekly"): the job for ReportWorker is invalid: args.day: expected string, got number (ReportWorker)',
    );
  });
});

describe('a stale generated module', () => {
  it('warns at start, naming the worker, when its options changed after npx gen', async () => {
    class Audited {
      async process(_job: Job<{ userId: string }>) {}
    }
    defineWorker(Audited, { structured: { keys: ['userId'] } });
    const generated = workerContract({ name: 'Audited', structured: undefined, recorded: false });
    const logger = recordingLogger();
    await startKoban({
      database: await freshDatabase(),
      queues: {},
      workers: [{ worker: Audited, contract: generated }],
      logger,
    });
    expect(logger.warnings).toEqual([
      'the generated module (npx gen) is stale for Audited: the worker options it was generated from ' +
        '(name, @Structured, @Recorded) have changed since. Run npx gen again; until then its validators ' +
        'check the old contract',
    ]);
  });
});
