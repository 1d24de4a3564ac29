import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { newJob, workflow } from '../../index.js';
import { freshDatabase } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { waitFor } from '../support/wait.js';
import { OutcomeWorker, workflowWorkers } from '../workflows/workers.js';

// A dep that finishes while appendWorkflow waits for its lock leaves the hot table for the
// history in that moment: the append must still find it, and count it as done.

let url: string;
let sql: postgres.Sql;

beforeAll(async () => {
  url = await freshDatabase();
  sql = postgres(url, { max: 2, onnotice: () => {} });
});

afterAll(async () => {
  await sql.end();
});

it('appends to a dep that finishes while the append waits for its lock', async () => {
  // No node runs the queue yet: the root stays available until this test finishes it by hand.
  const koban = await startKoban({ database: url, queues: {}, workers: workflowWorkers });
  const [root] = await koban.insertAll(
    workflow().add('root', newJob(OutcomeWorker, { outcome: 'complete' })),
  );
  const id = root!.workflowId!;

  let appended: Promise<unknown> | undefined;
  await sql.begin(async (tx) => {
    await tx`UPDATE koban.jobs SET state = 'completed', completed_at = now() WHERE id = ${root!.id}`;
    appended = koban.appendWorkflow(id, (flow) =>
      flow.add('late', newJob(OutcomeWorker, { outcome: 'complete' }), { deps: ['root'] }),
    );
    appended.catch(() => undefined);
    // The append is now waiting for the row this transaction holds.
    await waitFor('the append to wait for the lock', async () => {
      const [row] = await sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'`;
      return row!.n > 0;
    });
  });
  await expect(appended).resolves.toHaveLength(1);

  const runner = await startKoban({ database: url, queues: { pipelines: 2 }, workers: workflowWorkers });
  await waitFor('the late step to complete', async () => {
    const status = await runner.workflowStatus(id);
    return status?.steps.find((step) => step.name === 'late')?.state === 'completed';
  });
});
