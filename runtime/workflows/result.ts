import { sql } from 'drizzle-orm';
import type { JsonObject } from '../../sdk/job.js';
import { isFinalState, type JobState } from '../../sdk/states.js';
import type { WorkflowResult } from '../../sdk/workflow-context.js';
import { list } from '../database/wire.js';
import type { EngineContext } from '../engine/context.js';
import { allJobs } from '../engine/history.js';
import { recordedColumns, type StoredRecorded } from '../engine/records.js';
import { readRecorded } from '../workers/recorded.js';
import type { WorkerCatalog } from '../workers/worker-catalog.js';
import { manyResults, memberIndex } from './many.js';

/**
 * A workflow's result once every step has finished: the values of the steps it `returns` (by
 * default its last steps, which no step depends on), a many's members as one list under the
 * many's name. Null while a step has not finished; undefined for an unknown id.
 */
export async function workflowResult(
  ctx: EngineContext,
  catalog: WorkerCatalog,
  id: string,
): Promise<WorkflowResult | null | undefined> {
  const s = sql.raw(ctx.schema);
  const [workflow] = await ctx.database.query<{
    context: JsonObject | null;
    kinds: Record<string, string> | null;
    returns: string[] | null;
  }>(
    sql`SELECT w.context, w.kinds, to_json(w.returns) AS returns FROM ${s}.workflows w WHERE w.id = ${id}::uuid`,
  );
  if (!workflow) return undefined;
  const states = await ctx.database.query<{ state: JobState; n: number }>(sql`
    SELECT j.state, count(*)::int AS n FROM ${allJobs(ctx.schema)} j WHERE j.workflow_id = ${id}::uuid GROUP BY j.state`);
  if (states.some((row) => !isFinalState(row.state))) return null;
  const kinds = workflow.kinds ?? {};
  const manys = Object.keys(kinds).filter((name) => kinds[name] === 'many');
  const returns = workflow.returns;
  // The steps whose values make the result: those named, with the members of the manys named.
  const chosen = returns
    ? sql`(j.workflow_step = ANY(${list(returns, 'text')}) OR EXISTS (SELECT 1 FROM unnest(${list(returns, 'text')}) AS r(name)
        WHERE starts_with(j.workflow_step, r.name || '.')))`
    : sql`NOT EXISTS (SELECT 1 FROM ${s}.workflow_deps e WHERE e.dep_id = j.id)`;
  const rows = await ctx.database.query<StoredRecorded & { step: string }>(sql`
    SELECT ${recordedColumns('j')}, j.workflow_step AS step FROM ${allJobs(ctx.schema)} j
    WHERE j.workflow_id = ${id}::uuid AND ${chosen} ORDER BY j.id`);
  const values = await Promise.all(
    rows.map(async (row) => {
      const recorded = row.state === 'completed' ? await readRecorded(catalog, row) : undefined;
      return { step: row.step, value: recorded?.status === 'ok' ? recorded.value : undefined };
    }),
  );
  const isMember = (step: string) => manys.some((name) => memberIndex(name, step) !== undefined);
  const results: Record<string, unknown> = {};
  for (const { step, value } of values) {
    if (value === undefined || isMember(step)) continue;
    if (returns && !returns.includes(step)) continue;
    results[step] = value;
  }
  Object.assign(results, manyResults(kinds, values));
  const completed = states.every((row) => row.state === 'completed');
  return { id, state: completed ? 'completed' : 'failed', results, context: workflow.context ?? {} };
}
