import { type SQL, sql } from 'drizzle-orm';
import type { JobRecord } from '../../sdk/job.js';
import type { WorkflowJobsFilter } from '../../sdk/workflow-context.js';
import { list } from '../database/wire.js';
import type { EngineContext } from '../engine/context.js';
import { allJobs } from '../engine/history.js';
import { type JobWireRow, jobColumns, toStoredJob } from '../engine/records.js';
import { readableJobs } from '../workers/readable-jobs.js';
import type { WorkerCatalog } from '../workers/worker-catalog.js';

/** The jobs of a workflow, in insert order, with args readable where this node has the keys. */
export async function workflowJobs(
  ctx: EngineContext,
  catalog: WorkerCatalog,
  workflowId: string,
  filter: WorkflowJobsFilter,
  extra?: SQL,
  limit?: number,
): Promise<JobRecord[]> {
  const rows = await ctx.database.query<JobWireRow>(sql`
    SELECT ${jobColumns('j')} FROM ${allJobs(ctx.schema)} j
    WHERE j.workflow_id = ${workflowId}::uuid
      AND ${filter.names ? sql`j.workflow_step = ANY(${list([...filter.names], 'text')})` : sql`true`}
      AND ${filter.states ? sql`j.state = ANY(${list([...filter.states], 'text')})` : sql`true`}
      AND ${extra ?? sql`true`}
    ORDER BY j.id${limit === undefined ? sql`` : sql` LIMIT ${limit}`}`);
  return readableJobs(catalog, rows.map(toStoredJob));
}
