import { sql } from 'drizzle-orm';
import type { JsonObject } from '../../sdk/job.js';
import { CoalescedRead } from '../database/coalesced-read.js';
import { list } from '../database/wire.js';
import type { EngineContext } from '../engine/context.js';
import { allJobs } from '../engine/history.js';
import { recordedColumns, type StoredRecorded } from '../engine/records.js';

/** A dep as read: its recorded value (if any) and state, with its step name. */
export type DepRecorded = StoredRecorded & { readonly step: string };

interface WorkflowRow {
  readonly context: JsonObject;
  readonly kinds: Record<string, string>;
}

/**
 * What running steps read of their workflow, coalesced across the steps that start together:
 * each workflow's context and kinds, and each step's deps with their recorded values, one statement per
 * kind for a whole claim instead of one per step. Cascade steps read both before they run.
 */
export class StepReads {
  private readonly workflows: CoalescedRead<WorkflowRow>;
  private readonly depRows: CoalescedRead<DepRecorded[]>;

  constructor(ctx: EngineContext) {
    const s = sql.raw(ctx.schema);
    this.workflows = new CoalescedRead(async (ids) => {
      const rows = await ctx.database.query<{
        id: string;
        context: JsonObject | null;
        kinds: Record<string, string> | null;
      }>(sql`
        SELECT w.id::text AS id, w.context, w.kinds FROM ${s}.workflows w WHERE w.id = ANY(${list(ids, 'uuid')})`);
      return new Map(rows.map((row) => [row.id, { context: row.context ?? {}, kinds: row.kinds ?? {} }]));
    });
    this.depRows = new CoalescedRead(async (jobIds) => {
      const rows = await ctx.database.query<DepRecorded & { of: string }>(sql`
        SELECT e.job_id::text AS of, ${recordedColumns('j')}, j.workflow_step AS step
        FROM ${s}.workflow_deps e JOIN ${allJobs(ctx.schema)} j ON j.id = e.dep_id
        WHERE e.job_id = ANY(${list(jobIds, 'bigint')})
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
    return (await this.workflows.get(workflowId))?.context ?? {};
  }

  /** What kind each named part of a workflow is (`many` for an addMany), by name. */
  async kinds(workflowId: string): Promise<Record<string, string>> {
    return (await this.workflows.get(workflowId))?.kinds ?? {};
  }

  /** The deps of a step, whatever their state, in insert order. */
  async deps(jobId: string): Promise<DepRecorded[]> {
    return (await this.depRows.get(jobId)) ?? [];
  }
}
