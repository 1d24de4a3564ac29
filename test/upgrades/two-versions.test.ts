import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineWorker, type Job, newJob } from '../../index.js';
import { latestVersion } from '../../runtime/engine/migrations/index.js';
import { freshDatabase, withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { spawnNodeProcess } from '../support/node-process.js';
import { waitFor } from '../support/wait.js';

// Two versions of Koban against one database: the last version before the history tables
// (schema v003, built from git into a temp dir) runs a node while this version migrates the
// schema under it (v004 onwards: finished jobs move to job_history) and inserts; the old node
// keeps claiming, acking and inserting throughout.

const repo = fileURLToPath(new URL('../../', import.meta.url));
/** The commit that added migration v004; its parent is the version before it. */
const historyCommit = execFileSync(
  'git',
  ['log', '--format=%H', '--diff-filter=A', '--', 'runtime/engine/migrations/v004.ts'],
  {
    cwd: repo,
    encoding: 'utf8',
  },
)
  .trim()
  .split('\n')
  .at(-1)!;

class UpgradeWorker {
  async process(_job: Job<{ n: number }>) {}
}
defineWorker(UpgradeWorker, { queue: 'upgrade' });

let oldTree: string;
let url: string;

beforeAll(async () => {
  oldTree = mkdtempSync(join(tmpdir(), 'koban-old-'));
  const archive = execFileSync('git', ['archive', '--format=tar', `${historyCommit}^`], {
    cwd: repo,
    maxBuffer: 1 << 28,
  });
  execFileSync('tar', ['-x', '-C', oldTree], { input: archive });
  symlinkSync(join(repo, 'node_modules'), join(oldTree, 'node_modules'));
  copyFileSync(join(repo, 'test/upgrades/old-node.ts'), join(oldTree, 'old-node.ts'));
  url = await freshDatabase({ migrated: false });
  await withSql(url, (sql) =>
    sql.unsafe('CREATE TABLE public.upgrade_runs (job_id bigint NOT NULL, node text NOT NULL)'),
  );
});

afterAll(() => {
  if (oldTree) rmSync(oldTree, { recursive: true, force: true });
});

async function schemaVersion(): Promise<number> {
  return withSql(url, async (sql) => {
    const [row] = await sql<{ v: number }[]>`SELECT max(version)::int AS v FROM koban.schema_versions`;
    return row!.v;
  });
}

async function runsOf(node: string): Promise<number> {
  return withSql(url, async (sql) => {
    const [row] = await sql<
      { n: number }[]
    >`SELECT count(*)::int AS n FROM public.upgrade_runs WHERE node = ${node}`;
    return row!.n;
  });
}

describe('a node of the previous version while a newer one migrates', () => {
  it('keeps claiming, acking and inserting jobs, each run once', { timeout: 180_000 }, async () => {
    const config = { url, node: 'old-version' };
    const old = await spawnNodeProcess(join(oldTree, 'old-node.ts'), config, 120_000);
    expect(await schemaVersion()).toBe(3);

    // The newer version migrates the schema under the running old node, and inserts.
    const koban = await startKoban({ database: url, node: 'new-version', queues: {} });
    expect(await schemaVersion()).toBe(latestVersion);
    const jobs = await koban.insertAll(Array.from({ length: 40 }, (_, n) => newJob(UpgradeWorker, { n })));
    await waitFor(
      'the old node to run the new jobs',
      async () => (await runsOf('old-version')) === 40,
      60_000,
    );

    // The old node inserts on the migrated schema too, and runs what it inserted.
    old.child.kill('SIGUSR2');
    await waitFor('the old node to insert', () => old.stdout.includes('"inserted":10'), 30_000);
    await waitFor(
      'the old node to run its own jobs',
      async () => (await runsOf('old-version')) === 50,
      60_000,
    );

    await waitFor(
      'every job to be completed, in the history',
      () =>
        withSql(url, async (sql) => {
          const [row] = await sql<{ done: number; hot: number }[]>`
            SELECT (SELECT count(*)::int FROM koban.all_jobs WHERE state = 'completed') AS done,
                   (SELECT count(*)::int FROM koban.jobs) AS hot`;
          return row!.done === 50 && row!.hot === 0;
        }),
      30_000,
    );
    const byId = await Promise.all(jobs.map((job) => koban.getJob(job.id)));
    expect(byId.every((job) => job?.state === 'completed' && job.attempt === 1)).toBe(true);
    await old.stop();
    // The old node's only failures may be periodic statements (lifeline, stager) chosen as a
    // deadlock's victim while the migration held its locks: they run again on their next tick.
    const failures = old.stderr.split('\n').filter((line) => line.startsWith('[old-version]'));
    expect(failures.filter((line) => !line.includes('deadlock detected'))).toEqual([]);
  });
});
