import { sql } from 'drizzle-orm';
import { emptyCounts, isFinalState, type JobState } from '../../sdk/states.js';
import type { WorkflowStatus } from '../../sdk/workflow-context.js';
import type { EngineContext } from '../engine/context.js';
import { allJobs } from '../engine/history.js';

/** A workflow's steps with their states and deps, and counts per state; null for an unknown id. */
export async function workflowStatus(ctx: EngineContext, id: string): Promise<WorkflowStatus | null> {
  const s = sql.raw(ctx.schema);
  const [workflow] = await ctx.database.query<{ name: string | null }>(
    sql`SELECT name FROM ${s}.workflows WHERE id = ${id}::uuid`,
  );
  if (!workflow) return null;
  const steps = await ctx.database.query<{
    id: string;
    name: string;
    worker: string;
    state: JobState;
    deps: string[] | null;
  }>(sql`
    SELECT j.id::text AS id, j.workflow_step AS name, j.worker, j.state,
      to_json(ARRAY(SELECT e.dep_step FROM ${s}.workflow_deps e WHERE e.job_id = j.id ORDER BY e.dep_step)) AS deps
    FROM ${allJobs(ctx.schema)} j WHERE j.workflow_id = ${id}::uuid ORDER BY j.id`);
  const counts = emptyCounts();
  for (const step of steps) counts[step.state]++;
  const finished = steps.every((step) => isFinalState(step.state));
  return {
    id,
    name: workflow.name,
    state: !finished ? 'executing' : counts.completed === steps.length ? 'completed' : 'failed',
    counts,
    steps: steps.map((step) => ({
      name: step.name,
      jobId: step.id,
      worker: step.worker,
      state: step.state,
      deps: step.deps ?? [],
    })),
  };
}
