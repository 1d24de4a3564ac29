import { sql } from 'drizzle-orm';
import type { EngineContext } from '../engine/context.js';
import { allJobs } from '../engine/history.js';

/**
 * For tracing: the trace contexts (W3C traceparents) the attempts of a step's deps left in their
 * meta under `key`, so that the step's span links to the spans of the steps it waited for. Deps
 * that ran without tracing have none.
 */
export async function depTraceparents(ctx: EngineContext, jobId: string, key: string): Promise<string[]> {
  const rows = await ctx.database.query<{ traceparent: string }>(sql`
    SELECT d.meta ->> ${key} AS traceparent
    FROM ${sql.raw(ctx.schema)}.workflow_deps e JOIN ${allJobs(ctx.schema)} d ON d.id = e.dep_id
    WHERE e.job_id = ${jobId}::bigint AND d.meta ? ${key}
    ORDER BY e.dep_step`);
  return rows.map((row) => row.traceparent);
}

/** Leaves a step attempt's trace context in its meta under `key`, for the steps that depend on it. */
export async function storeStepTraceparent(
  ctx: EngineContext,
  jobId: string,
  attempt: number,
  key: string,
  traceparent: string,
): Promise<void> {
  await ctx.database.query(sql`
    UPDATE ${sql.raw(ctx.schema)}.jobs SET meta = meta || jsonb_build_object(${key}::text, ${traceparent}::text)
    WHERE id = ${jobId}::bigint AND attempt = ${attempt} AND state = 'executing'`);
}
