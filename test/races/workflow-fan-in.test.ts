import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newJob, type Workflow, workflow } from '../../index.js';
import { withSql } from '../support/databases.js';
import { startKoban } from '../support/koban.js';
import { spawnNode } from './support/processes.js';
import { recordingDatabase, waitForCompleted } from './support/recording-database.js';
import { closeRecorder, RecordRunWorker } from './support/workers.js';

// Two nodes in separate processes finish the 50 deps of a fan-in at the same moments. Each dep
// counts itself off the waiting step under the step's row lock, so the step is released once:
// each run is written to a side table with no unique constraint, where a second run would show.

const workflows = 20;
const width = 50;
let url: string;

beforeAll(async () => {
  url = await recordingDatabase();
});
afterAll(closeRecorder);

describe('a fan-in finished by two processes', () => {
  it('releases the merge step of each workflow exactly once', async () => {
    const [a, b] = await Promise.all([
      spawnNode({ url, node: 'fan-a', queues: { q: 25 } }),
      spawnNode({ url, node: 'fan-b', queues: { q: 25 } }),
    ]);
    const inserter = await startKoban({ database: url, workers: [RecordRunWorker], poolSize: 2 });
    const merges: string[] = [];
    for (let index = 0; index < workflows; index++) {
      let flow: Workflow<any> = workflow();
      const deps = Array.from({ length: width }, (_, part) => `part_${part}`);
      for (const dep of deps) flow = flow.add(dep, newJob(RecordRunWorker, {}));
      const inserted = await inserter.insertAll(flow.add('merge', newJob(RecordRunWorker, {}), { deps }));
      merges.push(inserted.at(-1)!.id);
    }
    await waitForCompleted(url, workflows * (width + 1));
    await Promise.all([a.stop(), b.stop()]);

    const result = await withSql(url, async (sql) => {
      const runs = await sql<{ job_id: string; runs: number }[]>`
        SELECT job_id::text, count(*)::int AS runs FROM public.runs WHERE job_id = ANY(${merges}::bigint[])
        GROUP BY job_id`;
      const late = await sql<{ count: number }[]>`
        SELECT count(*)::int AS count FROM koban.all_jobs m
        WHERE m.workflow_step = 'merge' AND EXISTS (
          SELECT 1 FROM koban.all_jobs d WHERE d.workflow_id = m.workflow_id AND d.workflow_step <> 'merge'
            AND d.completed_at > m.attempted_at)`;
      const perNode = await sql<{ node: string }[]>`SELECT DISTINCT node FROM public.runs ORDER BY node`;
      return { runs, late: late[0]!.count, nodes: perNode.map((row) => row.node) };
    });
    expect(result.runs).toHaveLength(workflows);
    expect(result.runs.every((row) => row.runs === 1)).toBe(true);
    // No merge started before its last dep completed.
    expect(result.late).toBe(0);
    expect(result.nodes).toEqual(['fan-a', 'fan-b']);
    expect(a.stderr + b.stderr).not.toMatch(/failed/);
  });
});
