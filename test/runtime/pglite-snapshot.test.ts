import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { defineWorker, type Job, type Koban, newJob } from '../../index.js';
import { startKoban } from '../support/koban.js';
import { lastJsonLine } from '../support/output.js';

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

const script = fileURLToPath(new URL('./support/embedded-node.ts', import.meta.url));
const repo = fileURLToPath(new URL('../../', import.meta.url));
const directories: string[] = [];
afterAll(async () => {
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

/** Runs embedded-node.ts in a process of its own, with a snapshot directory. */
async function startInProcess(snapshots: string): Promise<{ cluster: string; jobs: number }> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], {
    cwd: repo,
    env: { ...process.env, KOBAN_PGLITE_SNAPSHOTS: snapshots },
  });
  return JSON.parse(lastJsonLine(stdout)) as { cluster: string; jobs: number };
}

describe('a snapshot directory (KOBAN_PGLITE_SNAPSHOTS, set by koban/vitest)', () => {
  it('lets the first start of another process load the snapshot, and replaces a damaged one', async () => {
    const snapshots = await mkdtemp(join(tmpdir(), 'koban-snapshots-'));
    directories.push(snapshots);
    const first = await startInProcess(snapshots);
    const stored = await readdir(snapshots);
    expect(stored).toEqual([expect.stringMatching(/^pglite-[\d.]+-koban-v\d+-koban\.tar$/)]);
    expect(await startInProcess(snapshots)).toEqual(first);

    await writeFile(join(snapshots, stored[0]!), 'not a tar file');
    const afresh = await startInProcess(snapshots);
    expect(afresh.jobs).toBe(0);
    expect(afresh.cluster).not.toBe(first.cluster);
    expect(await startInProcess(snapshots)).toEqual(afresh);
  }, 300_000);
});
