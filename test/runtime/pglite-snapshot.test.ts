import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { defineWorker, type Job, type Koban, newJob } from '../../index.js';
import { startKoban } from '../support/koban.js';

// In-memory starts after the first in a process load a snapshot of the migrated data directory
// instead of running initdb and the migrations again. initdb gives every cluster a new system
// identifier, so an equal identifier shows that the second start came from the snapshot.

class SnapshotWorker {
  async process(_job: Job<{ n: number }>) {}
}
defineWorker(SnapshotWorker, { queue: 'snapshot' });

async function systemIdentifier(koban: Koban): Promise<string> {
  const result = (await koban.db.execute(
    sql`SELECT system_identifier::text AS id FROM pg_control_system()`,
  )) as unknown as { rows: { id: string }[] };
  return result.rows[0]!.id;
}

describe('embedded in-memory starts', () => {
  it('start the second time from a snapshot of the migrated first start, with none of its jobs', async () => {
    const first = await startKoban({ queues: {}, workers: [SnapshotWorker] });
    const cluster = await systemIdentifier(first);
    await first.insert(newJob(SnapshotWorker, { n: 1 }));
    await first.stop();

    const second = await startKoban({ queues: {}, workers: [SnapshotWorker] });
    expect(await systemIdentifier(second)).toBe(cluster);
    expect(await second.listJobs()).toEqual([]);
    const inserted = await second.insert(newJob(SnapshotWorker, { n: 2 }));
    expect((await second.getJob(inserted.id))?.args).toEqual({ n: 2 });
  });

  it('migrate a schema of their own when no start has migrated it yet', async () => {
    const koban = await startKoban({ queues: {}, schema: 'snapshot_other', workers: [SnapshotWorker] });
    const inserted = await koban.insert(newJob(SnapshotWorker, { n: 3 }));
    expect((await koban.getJob(inserted.id))?.state).toBe('available');
  });
});
