import { sql } from 'drizzle-orm';
import type { JsonObject } from '../../sdk/job.js';
import { CoalescedRead } from '../database/coalesced-read.js';
import { list } from '../database/wire.js';
import type { EngineContext } from '../engine/context.js';
import { allJobs } from '../engine/history.js';
import { recordedColumns, type StoredRecorded } from '../engine/records.js';

/** A dep's recorded value as read, with its step name. */
export type DepRecorded = StoredRecorded & { readonly step: string };

/**
 * What running steps read of their workflow, coalesced across the steps that start together:
 * the context of each workflow and the recorded values of each step's deps, one statement per
 * kind for a whole claim instead of one per step. Cascade steps read both before they run.
 */
export class StepReads {
  private readonly contexts: CoalescedRead<JsonObject>;
  private readonly deps: CoalescedRead<DepRecorded[]>;

  constructor(ctx: EngineContext) {
    const s = sql.raw(ctx.schema);
    this.contexts = new CoalescedRead(async (ids) => {
      const rows = await ctx.database.query<{ id: string; context: JsonObject | null }>(sql`
        SELECT w.id::text AS id, w.context FROM ${s}.workflows w WHERE w.id = ANY(${list(ids, 'uuid')})`);
      return new Map(rows.map((row) => [row.id, row.context ?? {}]));
    });
    this.deps = new CoalescedRead(async (jobIds) => {
      const rows = await ctx.database.query<DepRecorded & { of: string }>(sql`
        SELECT e.job_id::text AS of, ${recordedColumns('j')}, j.workflow_step AS step
        FROM ${s}.workflow_deps e JOIN ${allJobs(ctx.schema)} j ON j.id = e.dep_id
        WHERE e.job_id = ANY(${list(jobIds, 'bigint')}) AND j.state = 'completed' AND j.recorded IS NOT NULL
        ORDER BY j.id`);
      const byJob = new Map<string, DepRecorded[]>();
      for (const { of, ...row } of rows) {
        const found = byJob.get(of);
        if (found) found.push(row);
        else byJob.set(of, [row]);
      }
      return byJob;
    });
  }

  /** A workflow's context: `{}` when it has none or no such workflow exists. */
  async context(workflowId: string): Promise<JsonObject> {
    return (await this.contexts.get(workflowId)) ?? {};
  }

  /** The completed deps of a step that recorded a value, in insert order. */
  async depsRecorded(jobId: string): Promise<DepRecorded[]> {
    return (await this.deps.get(jobId)) ?? [];
  }
}
