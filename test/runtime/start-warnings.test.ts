import { describe, expect, it } from 'vitest';
import { defineWorker, type Job, type KobanLogger } from '../../index.js';
import { freshDatabase } from '../support/databases.js';
import { startKoban } from '../support/koban.js';

class ReportWorker {
  async process(_job: Job<{ day: string }>) {}
}
defineWorker(ReportWorker, { queue: 'reports' });

/** A logger that keeps its warnings. */
function recordingLogger(): KobanLogger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, info() {}, warn: (message) => warnings.push(message), error() {} };
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
